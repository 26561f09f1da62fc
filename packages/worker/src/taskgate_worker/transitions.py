"""One log line per transition of a task: received (by the worker's main process), started, retried and
finished — with its outcome, and the reason when it failed or was cancelled — each with the task's id,
type and attempt as fields, and the trace it belongs to when tracing is on."""

import logging
from typing import Any

from billiard.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery import Task, signals, states
from opentelemetry import trace

from taskgate_contracts import TIME_LIMIT_EXCEEDED
from taskgate_contracts.storage import CANCELLED_REASON
from taskgate_worker.base import HandlerTask

log = logging.getLogger("taskgate_worker.tasks")

#: How Celery's end states read in taskgate's words; RETRY is not an end (the retry has its own line).
OUTCOMES = {states.SUCCESS: "completed", states.FAILURE: "failed", states.IGNORED: "cancelled"}


_RECEIVERS = (
    (signals.task_received, "_received"),
    (signals.task_prerun, "_started"),
    (signals.task_retry, "_retried"),
    (signals.task_postrun, "_finished"),
)


def install() -> None:
    """Log the transitions of every task this process runs or receives."""
    for signal, name in _RECEIVERS:
        signal.connect(globals()[name], weak=False, dispatch_uid=f"taskgate-{name}")


def start_after_spans() -> None:
    """Log a task's start after the receivers connected since (the run span's): Celery calls receivers in
    the order they were connected, and the line should name the span's trace."""
    signals.task_prerun.disconnect(dispatch_uid="taskgate-_started")
    install()


def _fields(task: Task, task_id: str, retries: int | None, hostname: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "task_id": task_id,
        # Only the worker's own base task knows its type; Celery's built-in tasks go by their name.
        "task_type": task.spec.name if isinstance(task, HandlerTask) else task.name,
        "attempt": (retries or 0) + 1,
        "worker": hostname,
    }
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        fields["trace_id"] = trace.format_trace_id(context.trace_id)
        fields["span_id"] = trace.format_span_id(context.span_id)
    return fields


def _running(task: Task, task_id: str) -> dict[str, Any]:
    return _fields(task, task_id, task.request.retries, task.request.hostname)


def _received(request: Any = None, **_: Any) -> None:
    fields = _fields(request.task, request.id, request.request_dict.get("retries"), request.hostname)
    log.info("task received", extra=fields)


def _started(task_id: str = "", task: Any = None, **_: Any) -> None:
    log.info("task started", extra=_running(task, task_id))


def _retried(request: Any = None, reason: Any = None, sender: Any = None, **_: Any) -> None:
    fields = _running(sender, request.id)
    log.info("task retried", extra={**fields, "reason": _reason(getattr(reason, "exc", reason))})


def _finished(task_id: str = "", task: Any = None, retval: Any = None, state: str = "", **_: Any) -> None:
    outcome = OUTCOMES.get(state)
    if outcome is None:
        return
    fields = {**_running(task, task_id), "outcome": outcome}
    if state == states.FAILURE:
        fields["reason"] = _reason(retval)
    elif state == states.IGNORED:
        fields["reason"] = CANCELLED_REASON
    log.info("task finished", extra=fields)


def _reason(exc: object) -> str:
    """Why a task failed, as the api reports it: never a traceback."""
    if isinstance(exc, SoftTimeLimitExceeded | TimeLimitExceeded):
        return TIME_LIMIT_EXCEEDED
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc)
