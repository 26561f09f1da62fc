"""OpenTelemetry in the worker: on only when the standard OTEL_* variables ask for it (see
`taskgate_contracts.observability.tracing_requested`).

Each pool process sets up its own tracer when it starts (`worker_process_init`): a process forked from a
parent that already exported would share its exporter's thread and name the parent's pid. The Celery
instrumentation (opentelemetry-instrumentation-celery) then makes each attempt's run span, a child of the
api's publish span through the `traceparent` header the api wrote; the Redis instrumentation adds the
result's writes under it. This module adds taskgate's names to the run span — the task's id, type,
attempt and outcome — and links each retried attempt to the one before it.

A retry is published from inside the failing attempt, and the Celery instrumentation makes that publish
a child of the attempt, so the attempts form one chain in the job's trace. The retried message also
carries `taskgate-previous-attempt`, the W3C context of the attempt's own span, which the next attempt's
span links to: a viewer shows "retry of" without walking the chain.
"""

import os
from typing import Any

from celery import Task, current_task, signals
from opentelemetry import trace
from opentelemetry.trace import Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from taskgate_contracts.observability import TASK_ID, TASK_TYPE, tracing_requested
from taskgate_worker import transitions
from taskgate_worker.base import HandlerTask
from taskgate_worker.logs import SERVICE
from taskgate_worker.transitions import OUTCOMES
from taskgate_worker.version import __version__

#: The message header of a retried attempt: the W3C `traceparent` of the attempt that asked for it.
PREVIOUS_ATTEMPT_HEADER = "taskgate-previous-attempt"
#: Where an attempt keeps its run span, on its request, for the retry it may publish.
_RUN_SPAN = "taskgate_run_span"
_W3C = TraceContextTextMapPropagator()


def install() -> None:
    """Trace every pool process's tasks if the OTEL_* variables ask for it; raises TracingSettingError
    naming a variable the worker cannot honour, before the worker starts."""
    if tracing_requested(os.environ):
        signals.worker_process_init.connect(_start, weak=False, dispatch_uid="taskgate-tracing")


def _start(**_: Any) -> None:
    # The SDK is imported only here: a worker that is not traced does not load it.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import PROCESS_PID, SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    names: dict[str, str | int] = {SERVICE_NAME: SERVICE, SERVICE_VERSION: __version__}
    provider = TracerProvider(resource=Resource.create({**names, PROCESS_PID: os.getpid()}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # Before the instrumentation's own receiver, which ends the span.
    signals.task_postrun.connect(_outcome, weak=False, dispatch_uid="taskgate-tracing-outcome")
    CeleryInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    RedisInstrumentor().instrument(tracer_provider=provider)
    # After the instrumentation's receivers: the run span, and the retry's publish headers, exist by then.
    signals.task_prerun.connect(_annotate, weak=False, dispatch_uid="taskgate-tracing-annotate")
    signals.before_task_publish.connect(_mark_retry, weak=False, dispatch_uid="taskgate-tracing-retry")
    transitions.start_after_spans()

    def flush(**_: Any) -> None:
        provider.shutdown()  # the spans still batched go out before the process does

    signals.worker_process_shutdown.connect(flush, weak=False, dispatch_uid="taskgate-tracing-flush")


def _annotate(task: Task | None = None, task_id: str = "", **_: Any) -> None:
    span = trace.get_current_span()
    if task is None or not span.is_recording():
        return
    request = task.request
    setattr(request, _RUN_SPAN, span)
    span.set_attributes(
        {
            TASK_ID: task_id,
            TASK_TYPE: task.spec.name if isinstance(task, HandlerTask) else task.name,
            "taskgate.attempt": (request.retries or 0) + 1,
        }
    )
    previous = getattr(request, PREVIOUS_ATTEMPT_HEADER, None)
    if isinstance(previous, str):
        attempt = trace.get_current_span(_W3C.extract({"traceparent": previous})).get_span_context()
        if attempt.is_valid:
            span.add_link(attempt, {"taskgate.link": "previous attempt"})


def _mark_retry(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """On the message of a retry (the running task publishing itself again), name the attempt's span."""
    running = current_task
    if headers is None or running is None or headers.get("id") != running.request.id:
        return
    span: Span | None = getattr(running.request, _RUN_SPAN, None)
    if span is not None:
        carrier: dict[str, str] = {}
        _W3C.inject(carrier, context=trace.set_span_in_context(span))
        headers[PREVIOUS_ATTEMPT_HEADER] = carrier["traceparent"]


def _outcome(state: str = "", **_: Any) -> None:
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("taskgate.task_state", OUTCOMES.get(state, state.lower()))
