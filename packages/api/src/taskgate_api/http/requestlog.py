"""One log line per request, and a request id that follows it.

Every answer carries `X-Request-ID`: the client's own when it sent a usable one, else one made here. Once
the answer is sent, one line says what happened — method, path, status, duration from arrival, request
id, and the task, key and trace it concerns when there are any. The routes note the task they made or
looked at in the request's scope state (`note_task`); the authentication of named keys notes the key's
name under `KEY_NAME`. With tracing on, the same names become attributes of the request's server span.

Nothing here reads headers but the request id, and never the `Authorization` header: keys stay out of
the logs.
"""

import logging
import random
import re
import time
from collections.abc import MutableMapping
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskgate_api.http.arrival import arrived
from taskgate_contracts.observability import KEY_NAME, REQUEST_ID_HEADER, TASK_ID, TASK_TYPE

__all__ = ["KEY_NAME", "LogRequests", "note_task"]

log = logging.getLogger("taskgate_api.requests")

#: The scope state key of the request's id.
REQUEST_ID = "taskgate.request_id"
_HEADER = REQUEST_ID_HEADER.lower().encode()
#: A client's request id is kept only if it is short, visible ASCII: it goes into every log line.
_USABLE_ID = re.compile(rb"[!-~]{1,128}")


def note_task(state: MutableMapping[str, Any], task_id: str, task_type: str | None = None) -> None:
    """Say which task a request made or concerns, for its log line and span."""
    state[TASK_ID] = task_id
    if task_type is not None:
        state[TASK_TYPE] = task_type


class LogRequests:
    """Gives every request an id, echoed in `X-Request-ID`, and logs one line once it is answered."""

    def __init__(self, app: ASGIApp, traced: bool) -> None:
        self.app = app
        self._traced = traced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received_at = arrived(scope)
        state = scope["state"]
        request_id = _request_id(scope["headers"])
        state[REQUEST_ID] = request_id
        echoed = (_HEADER, request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
                if self._traced:  # before the answer ends, and the server span with it
                    _annotate(trace.get_current_span(), scope)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                _log_line(scope, status, time.monotonic() - received_at, self._traced)


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == _HEADER and _USABLE_ID.fullmatch(value):
            return value.decode()
    # Not from os.urandom: a request id needs to be unique, not secret, and a system call per request
    # is what the api's hot path avoids.
    return f"{random.getrandbits(128):032x}"


def _task_id(scope: Scope) -> str | None:
    task_id: str | None = scope["state"].get(TASK_ID) or scope.get("path_params", {}).get("task_id")
    return task_id


def _annotate(span: trace.Span, scope: Scope) -> None:
    state = scope["state"]
    attributes = {
        TASK_ID: _task_id(scope),
        TASK_TYPE: state.get(TASK_TYPE),
        KEY_NAME: state.get(KEY_NAME),
        "http.request.header.x-request-id": state[REQUEST_ID],
    }
    span.set_attributes({name: value for name, value in attributes.items() if value is not None})


def _log_line(scope: Scope, status: int, seconds: float, traced: bool) -> None:
    state = scope["state"]
    fields: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "request_id": state[REQUEST_ID],
    }
    optional = {
        "task_id": _task_id(scope),
        "task_type": state.get(TASK_TYPE),
        "key": state.get(KEY_NAME),
    }
    fields.update((name, value) for name, value in optional.items() if value is not None)
    if traced:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            fields["trace_id"] = trace.format_trace_id(context.trace_id)
            fields["span_id"] = trace.format_span_id(context.span_id)
    log.info("%s %s %d", scope["method"], scope["path"], status, extra=fields)
