"""What the client raises: one class per way the api can refuse, each with the status and the decoded body."""

from typing import Generic, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from taskgate_contracts.responses import (
    ConflictResponse,
    FailedResponse,
    ForbiddenResponse,
    GoneResponse,
    InternalErrorResponse,
    NotFoundResponse,
    ServiceUnavailableResponse,
    TaskView,
    TooManyRequestsResponse,
    UnknownTaskTypeResponse,
    ValidationErrorResponse,
)

BodyT = TypeVar("BodyT", covariant=True)
ModelT = TypeVar("ModelT", bound=BaseModel)


class TaskgateError(Exception):
    """Base of every error the client raises."""


class ApiConnectionError(TaskgateError):
    """The api could not be reached, or did not answer in time."""


class ApiError(TaskgateError, Generic[BodyT]):
    """The api answered with an error status, or with a body that is not what the contract promises."""

    def __init__(self, message: str, status_code: int, body: BodyT) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class InvalidRequestError(ApiError[ValidationErrorResponse]):
    """422: the request was refused; `body.detail` says which part is wrong and why."""


class UnauthorizedError(ApiError[str]):
    """401: the api requires an API key and got none, or a wrong one; `body` is its explanation."""


class NotFoundError(ApiError[NotFoundResponse]):
    """404: no such task, or it has expired; or no such task type (`TaskTypeNotFoundError`)."""


class TaskTypeNotFoundError(NotFoundError):
    """404: the api has no task type of that name; `known` lists the ones it has. `body` holds the detail,
    as for any `NotFoundError`."""

    def __init__(self, message: str, status_code: int, body: NotFoundResponse, known: list[str]) -> None:
        super().__init__(message, status_code, body)
        self.known = known


class ConflictError(ApiError[ConflictResponse]):
    """409: the task's state does not allow it, for example cancelling a finished task."""


class GoneError(ApiError[GoneResponse]):
    """410: the task existed, but its record has expired (RESULT_EXPIRES)."""


class ForbiddenError(ApiError[ForbiddenResponse]):
    """403: the key is valid but a client key; this needs an admin key."""


class RateLimitedError(ApiError[TooManyRequestsResponse]):
    """429: the key is over a limit (`body.policy`: `rate` or `in-flight`); try again after `retry_after`
    seconds."""

    def __init__(
        self, message: str, status_code: int, body: TooManyRequestsResponse, retry_after: int
    ) -> None:
        super().__init__(message, status_code, body)
        self.retry_after = retry_after


class ServiceUnavailableError(ApiError[ServiceUnavailableResponse]):
    """503: a service the api needs (RabbitMQ or Redis) is unreachable."""

    @property
    def service(self) -> str:
        return self.body.service


class TaskFailedError(ApiError[FailedResponse]):
    """The task ran and failed: it raised, or ran past its time limit. `status_code` is that of the answer
    that told: 500 from a run operation, 200 from the task's state."""

    @classmethod
    def of(cls, body: FailedResponse, status_code: int) -> "TaskFailedError":
        return cls(f"task {body.task_id} failed: {body.error}", status_code, body)


class TaskCancelledError(TaskgateError):
    """The task was cancelled before it completed; `view` is its final state."""

    def __init__(self, message: str, view: TaskView) -> None:
        super().__init__(message)
        self.view = view


class TaskPendingError(TaskgateError):
    """The task had not finished when the client stopped waiting; it keeps running. `view` is its state
    then; follow it by `task_id`."""

    def __init__(self, message: str, view: TaskView) -> None:
        super().__init__(message)
        self.view = view

    @property
    def task_id(self) -> str:
        return self.view.task_id


class ServerError(ApiError[str]):
    """Any other 5xx: the api itself is broken; `body` is the text it sent."""


def _decoded(response: httpx.Response, model: type[ModelT]) -> ModelT | None:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        return None


def _detail(response: httpx.Response) -> str | None:
    """The `detail` of a JSON error body, the way the api explains a refusal."""
    try:
        body = response.json()
    except ValueError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else None


def _invalid(body: ValidationErrorResponse) -> str:
    problems = "; ".join(f"{'.'.join(map(str, error.loc))}: {error.msg}" for error in body.detail)
    return f"invalid request: {problems}"


def unexpected_answer(response: httpx.Response, expected: str) -> ApiError[str]:
    """The api answered, but not as the contract says: a proxy's page, or a different service."""
    text = response.text
    return ApiError(
        f"the api answered {response.status_code} with {text[:200]!r}, not {expected}",
        response.status_code,
        text,
    )


def error_for(response: httpx.Response) -> ApiError[object]:
    """The error an error answer stands for; a body that does not fit its status makes it unexpected."""
    status = response.status_code
    if status == httpx.codes.UNPROCESSABLE_ENTITY and (
        invalid := _decoded(response, ValidationErrorResponse)
    ):
        return InvalidRequestError(_invalid(invalid), status, invalid)
    if status == httpx.codes.UNAUTHORIZED:
        reason = _detail(response) or response.text
        return UnauthorizedError(f"unauthorized: {reason}", status, reason)
    if status == httpx.codes.NOT_FOUND and (unknown := _decoded(response, UnknownTaskTypeResponse)):
        body = NotFoundResponse(detail=unknown.detail)
        return TaskTypeNotFoundError(unknown.detail, status, body, unknown.known)
    if status == httpx.codes.NOT_FOUND and (missing := _decoded(response, NotFoundResponse)):
        return NotFoundError(missing.detail, status, missing)
    if status == httpx.codes.GONE and (gone := _decoded(response, GoneResponse)):
        return GoneError(gone.detail, status, gone)
    if status == httpx.codes.FORBIDDEN and (forbidden := _decoded(response, ForbiddenResponse)):
        return ForbiddenError(forbidden.detail, status, forbidden)
    if status == httpx.codes.TOO_MANY_REQUESTS and (limited := _decoded(response, TooManyRequestsResponse)):
        retry_after = response.headers.get("Retry-After", "1")
        return RateLimitedError(
            limited.detail, status, limited, int(retry_after) if retry_after.isdigit() else 1
        )
    if status == httpx.codes.CONFLICT and (conflict := _decoded(response, ConflictResponse)):
        return ConflictError(conflict.detail, status, conflict)
    if status == httpx.codes.SERVICE_UNAVAILABLE and (
        unavailable := _decoded(response, ServiceUnavailableResponse)
    ):
        return ServiceUnavailableError(unavailable.detail, status, unavailable)
    if status == httpx.codes.INTERNAL_SERVER_ERROR and (failed := _decoded(response, FailedResponse)):
        return TaskFailedError.of(failed, status)
    if status == httpx.codes.INTERNAL_SERVER_ERROR and (
        internal := _decoded(response, InternalErrorResponse)
    ):
        return ServerError(internal.detail, status, response.text)
    if status >= httpx.codes.INTERNAL_SERVER_ERROR:
        text = response.text
        return ServerError(f"the api failed with {status}: {text[:200]!r}", status, text)
    if (detail := _detail(response)) is not None:
        # A refusal the api explains without a model of its own, such as 413 for a body too large.
        return ApiError(f"the api refused the request ({status}): {detail}", status, response.text)
    return unexpected_answer(response, "an answer the taskgate api gives")
