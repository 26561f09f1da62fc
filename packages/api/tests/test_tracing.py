"""The api's own spans, on an in-memory exporter: the publish span writes its context where the worker's
Celery instrumentation reads it, and the result's delivery joins the waiting request's trace."""

import asyncio
import json
from collections.abc import Iterator

import fakeredis
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from taskgate_api.engine.waiting import ResultHub
from taskgate_api.tracing import Tracing
from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.storage import result_key


@pytest.fixture
def exported() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Tracing(provider), exporter
    provider.shutdown()


def test_the_publish_span_puts_its_w3c_context_at_the_top_of_the_message_headers(
    exported: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = exported
    headers: dict[str, object] = {"task": PROCESS.task_name, "id": "t-1"}
    with tracing.publishing(PROCESS, "t-1", headers):
        pass

    (span,) = exporter.get_finished_spans()
    context = span.get_span_context()
    assert span.name == "send taskgate.process"
    assert span.kind is trace.SpanKind.PRODUCER
    assert span.attributes is not None
    assert (span.attributes["taskgate.task_id"], span.attributes["taskgate.task_type"]) == ("t-1", "process")
    assert span.attributes["messaging.destination.name"] == PROCESS.queue
    # Where a protocol 2 worker makes it `task.request.traceparent`, read by the Celery instrumentation.
    assert context is not None
    version, trace_id, span_id, _ = str(headers["traceparent"]).split("-")
    assert (version, trace_id, span_id) == ("00", f"{context.trace_id:032x}", f"{context.span_id:016x}")


def test_a_failed_publish_is_an_error_span(exported: tuple[Tracing, InMemorySpanExporter]) -> None:
    tracing, exporter = exported
    with pytest.raises(ConnectionError), tracing.publishing(PROCESS, "t-2", {}):
        raise ConnectionError("RabbitMQ went away")
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR


async def test_the_delivery_of_a_result_is_a_span_under_the_waiting_request(
    exported: tuple[Tracing, InMemorySpanExporter],
) -> None:
    tracing, exporter = exported
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    hub = ResultHub(redis, tracing)
    running = asyncio.create_task(hub.run())
    while not hub.listening:
        await asyncio.sleep(0.001)
    tracer = tracing.provider.get_tracer("test")
    with tracer.start_as_current_span("POST /run/process") as request, hub.expect("t-3") as outcome:
        failed = {"status": "FAILURE", "result": {"exc_type": "ValueError", "exc_message": ["no"]}}
        await redis.publish(result_key("t-3"), json.dumps(failed))
        await asyncio.wait_for(outcome, 1)
    running.cancel()
    await redis.aclose()

    (delivery,) = [span for span in exporter.get_finished_spans() if span.name == "deliver result"]
    assert delivery.parent is not None
    assert delivery.parent.span_id == request.get_span_context().span_id
    assert delivery.attributes is not None
    assert (delivery.attributes["taskgate.task_id"], delivery.attributes["taskgate.task_state"]) == (
        "t-3",
        "failed",
    )
    assert delivery.status.status_code is trace.StatusCode.ERROR
