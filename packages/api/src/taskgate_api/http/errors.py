"""How the api answers when a request cannot be served: 503 naming the unreachable service, 422 that says
what is wrong, 409 when a finished task cannot change or a dead letter was replayed already, 404 for an
unknown task type or a task no dead-letter queue holds, 410 for an expired task, 429 over a key's
in-flight limit, and a JSON 500 for what nobody foresaw.

Every error answer is a JSON object with `detail`: a sentence, or for a 422 the list of what is wrong
(`loc`, `msg`, `type` each), and beside it the fields of its model in `taskgate_contracts.responses`.
"""

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskgate_api.apikeys import ApiKey
from taskgate_api.engine.deadletters import AlreadyReplayedError, NotDeadLetteredError
from taskgate_api.engine.errors import (
    IdempotencyConflictError,
    InFlightLimitError,
    ServiceUnavailableError,
    TaskFinishedError,
    TaskGoneError,
)
from taskgate_api.http.answers import RETRY_AFTER_UNAVAILABLE, model_response
from taskgate_api.http.guards import API_KEY
from taskgate_api.http.ratelimits import in_flight_headers, over_in_flight
from taskgate_contracts import (
    IDEMPOTENCY_HEADER,
    ConflictResponse,
    ErrorDetail,
    GoneResponse,
    InternalErrorResponse,
    NotFoundResponse,
    ServiceUnavailableResponse,
    TaskState,
    UnknownTaskTypeError,
    UnknownTaskTypeResponse,
    ValidationErrorResponse,
)

log = logging.getLogger(__name__)

#: The methods a 405's Allow may name.
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def validation_error(loc: Sequence[str | int], msg: str, type_: str) -> RequestValidationError:
    """A 422 raised by the api itself, shaped like the ones FastAPI raises."""
    return RequestValidationError([{"loc": tuple(loc), "msg": msg, "type": type_}])


def invalid_body(error: ValidationError) -> RequestValidationError:
    """A body's validation errors as FastAPI reports a body's: each location under `body`."""
    return RequestValidationError(
        [{"loc": ("body", *item["loc"]), "msg": item["msg"], "type": item["type"]} for item in error.errors()]
    )


async def _service_unavailable(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceUnavailableError)
    body = ServiceUnavailableResponse(service=exc.service, detail=exc.detail)
    return model_response(body, 503, {"Retry-After": RETRY_AFTER_UNAVAILABLE})


def _details(errors: Sequence[Any]) -> list[ErrorDetail]:
    # The offending input is not echoed back: it may be megabytes long, or someone else's secret.
    return [
        ErrorDetail(loc=list(error.get("loc", ())), msg=str(error.get("msg", "")), type=error.get("type", ""))
        for error in errors
    ]


async def _invalid_request(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return model_response(ValidationErrorResponse(detail=_details(exc.errors())), 422)


async def _idempotency_conflict(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotencyConflictError)
    detail = ErrorDetail(loc=["header", IDEMPOTENCY_HEADER], msg=exc.detail, type="idempotency_conflict")
    return model_response(ValidationErrorResponse(detail=[detail]), 422)


async def _finished(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, TaskFinishedError)
    return model_response(ConflictResponse(detail=str(exc), status=exc.view.status), 409)


async def _gone(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, TaskGoneError)
    return model_response(GoneResponse(detail=exc.detail, task_id=exc.task_id), 410)


async def _over_in_flight(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InFlightLimitError)
    key: ApiKey = request.scope["state"][API_KEY]
    return model_response(over_in_flight(key), 429, in_flight_headers(key))


async def _not_dead_lettered(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotDeadLetteredError)
    detail = f"no dead-letter queue holds task {exc.task_id}: it was never dead-lettered, or was replayed"
    return model_response(NotFoundResponse(detail=detail), 404)


async def _replayed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AlreadyReplayedError)
    services = request.app.state.services
    view = await services.records.view(exc.task_id)
    status = TaskState.QUEUED if view is None else view.status
    return model_response(ConflictResponse(detail=str(exc), status=status), 409)


async def _unknown_task_type(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnknownTaskTypeError)
    return model_response(UnknownTaskTypeResponse(detail=str(exc), known=exc.known), 404)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot even decode (not UTF-8): a body that is not JSON, so 422.
        not_json = ErrorDetail(loc=["body"], msg="the body is not valid JSON text", type="json_invalid")
        return model_response(ValidationErrorResponse(detail=[not_json]), 422)
    if exc.status_code == 405:
        # Starlette names only the methods of the first route on the path; a path may have several.
        allowed = _allowed_methods(request)
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route takes on the request's path: every route's, not just the first's, and those
    the OpenAPI document leaves out (the answer to an unknown task type) too, so Allow is never empty."""
    routes = request.app.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


class AnswerUnexpected:
    """Outermost: an exception no handler took is logged with its traceback under a new error id, and the
    client gets a JSON 500 naming that id — never the traceback, nor Starlette's plain-text 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_the_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_the_start)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("error %s: %s %s failed unexpectedly", error_id, scope["method"], scope["path"])
            if started:  # an answer is under way (an event stream): all that can be done is to end it
                return
            detail = f"the api failed unexpectedly; its log names error {error_id}"
            body = InternalErrorResponse(detail=detail, error_id=error_id).model_dump_json().encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})


def install(app: FastAPI) -> None:
    # Handlers are coroutines: Starlette runs a plain function in a worker thread.
    app.add_exception_handler(ServiceUnavailableError, _service_unavailable)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(IdempotencyConflictError, _idempotency_conflict)
    app.add_exception_handler(TaskFinishedError, _finished)
    app.add_exception_handler(TaskGoneError, _gone)
    app.add_exception_handler(InFlightLimitError, _over_in_flight)
    app.add_exception_handler(NotDeadLetteredError, _not_dead_lettered)
    app.add_exception_handler(AlreadyReplayedError, _replayed)
    app.add_exception_handler(UnknownTaskTypeError, _unknown_task_type)
    app.add_exception_handler(StarletteHTTPException, _http_error)
