"""OpenTelemetry in the api: on only when the standard OTEL_* variables ask for it (see
`taskgate_contracts.observability.tracing_requested`), and then one trace per job.

The trace of a job starts with the HTTP server span (opentelemetry-instrumentation-fastapi, installed by
the app). Under it:
the Redis commands (opentelemetry-instrumentation-redis), the publish span, and — when the request waits —
the span of the result's delivery. The worker's run span joins the trace from the message's headers.

When tracing is off nothing here exists: no middleware is installed, no instrumentation patches a
library, and the code paths that take a `Tracing` get None and skip it with one comparison. A request
then costs what it cost before.
"""

import contextlib
import os
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from opentelemetry import context, propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from taskgate_api.logs import SERVICE
from taskgate_api.version import __version__
from taskgate_contracts import TaskSpec, TaskState
from taskgate_contracts.observability import TASK_ID, TASK_TYPE, tracing_requested
from taskgate_contracts.storage import ResultMeta

_MESSAGING_SYSTEM = "rabbitmq"


class Tracing:
    """The api's tracer. Exists only when tracing is on."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("taskgate_api", __version__)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Tracing | None":
        """The api's tracing if the OTEL_* variables ask for it, else None; raises TracingSettingError
        naming a variable the api cannot honour."""
        if not tracing_requested(os.environ if environ is None else environ):
            return None
        return cls(_provider())

    @contextlib.contextmanager
    def publishing(self, spec: TaskSpec[Any, Any], task_id: str, headers: dict[str, Any]) -> Iterator[None]:
        """The span of sending a task to RabbitMQ, its W3C context written into the message's `headers`.

        The api publishes with aiormq a message Celery wrote, a path no maintained instrumentation covers
        (Celery's instruments `apply_async`, aio-pika's a library the api does not use), so the span is
        made here. The context goes where Celery's own publish puts it: `traceparent` (and `tracestate`)
        at the top level of the AMQP headers. A protocol 2 worker copies every header onto
        `task.request`, which is where the Celery instrumentation's getter reads `traceparent` from, so
        the worker's run span becomes a child of this one.
        """
        attributes = {
            "messaging.system": _MESSAGING_SYSTEM,
            "messaging.operation.type": "send",
            "messaging.destination.name": spec.queue,
            "messaging.message.id": task_id,
            TASK_ID: task_id,
            TASK_TYPE: spec.name,
        }
        with self._tracer.start_as_current_span(
            f"send {spec.task_name}", kind=SpanKind.PRODUCER, attributes=attributes
        ):
            propagate.inject(headers)
            yield

    def current(self) -> context.Context:
        """The context a waiting request runs in, for the span of its result's delivery."""
        return context.get_current()

    def delivered(self, waiter: context.Context, task_id: str, outcome: ResultMeta) -> None:
        """A span under the waiting request, marking when the result hub handed it the outcome."""
        state = outcome.task_state
        span = self._tracer.start_span(
            "deliver result",
            context=waiter,
            kind=SpanKind.INTERNAL,
            attributes={TASK_ID: task_id, "taskgate.task_state": state.value},
        )
        if state is TaskState.FAILED:
            span.set_status(Status(StatusCode.ERROR, outcome.error))
        span.end()


@cache
def _provider() -> TracerProvider:
    """One provider per process, exporting over OTLP/HTTP as the OTEL_EXPORTER_OTLP_* variables say;
    OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the names given here. Redis is
    instrumented once, for every client of the process. The SDK is imported only here: an api that is
    not traced does not load it."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import PROCESS_PID, SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    names: dict[str, str | int] = {SERVICE_NAME: SERVICE, SERVICE_VERSION: __version__}
    resource = Resource.create({**names, PROCESS_PID: os.getpid()})
    provider = SdkTracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    RedisInstrumentor().instrument(tracer_provider=provider)
    return provider
