"""Errors the api answers with: 503 naming the unreachable service, and 422 that says what is wrong."""

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from taskgate_api.responses import model_response
from taskgate_contracts import ErrorDetail, ServiceUnavailableResponse, ValidationErrorResponse

Service = Literal["rabbitmq", "redis"]
_DISPLAY_NAMES: dict[Service, str] = {"rabbitmq": "RabbitMQ", "redis": "Redis"}

#: How long a client should wait before trying again when a service is down.
RETRY_AFTER_UNAVAILABLE = "5"


class ServiceUnavailableError(Exception):
    """A service the api needs did not answer, or refused the work."""

    def __init__(self, service: Service, address: str, reason: object, *, refused: bool = False) -> None:
        self.service = service
        name = _DISPLAY_NAMES[service]
        self.detail = (
            f"{name} at {address}: {reason}" if refused else f"{name} is unreachable at {address}: {reason}"
        )
        super().__init__(self.detail)


@contextlib.contextmanager
def redis_errors(address: str) -> Iterator[None]:
    """Turn a Redis failure into a 503 naming Redis."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise ServiceUnavailableError("redis", address, exc) from exc


def validation_error(loc: Sequence[str | int], msg: str, type_: str) -> RequestValidationError:
    """A 422 raised by the api itself, shaped like the ones FastAPI raises."""
    return RequestValidationError([{"loc": tuple(loc), "msg": msg, "type": type_}])


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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot even decode (not UTF-8): a body that is not JSON, so 422.
        not_json = ErrorDetail(loc=["body"], msg="the body is not valid JSON text", type="json_invalid")
        return model_response(ValidationErrorResponse(detail=[not_json]), 422)
    if exc.status_code == 405:
        # Starlette names only the methods of the first route on the path; a path may have several.
        allowed = _allowed_methods(request.app, request.url.path)
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the OpenAPI document lists for the path: every route's, not just the first's."""
    methods = {
        method.upper()
        for template, operations in app.openapi()["paths"].items()
        if compile_path(template)[0].match(path)
        for method in operations
    }
    return sorted(methods)


def install(app: FastAPI) -> None:
    # Handlers are coroutines: Starlette runs a plain function in a worker thread.
    app.add_exception_handler(ServiceUnavailableError, _service_unavailable)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
