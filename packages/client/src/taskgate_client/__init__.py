"""A typed client of the taskgate api, sync and async, and the `taskgate` command."""

from taskgate_client.async_client import AsyncTaskgateClient
from taskgate_client.calls import DEFAULT_TASK_TIMEOUT, DEFAULT_URL, TaskFilter
from taskgate_client.errors import (
    ApiConnectionError,
    ApiError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    TaskCancelledError,
    TaskFailedError,
    TaskgateError,
    TaskPendingError,
    TaskTypeNotFoundError,
    UnauthorizedError,
)
from taskgate_client.sync_client import TaskgateClient

__all__ = [
    "DEFAULT_TASK_TIMEOUT",
    "DEFAULT_URL",
    "ApiConnectionError",
    "ApiError",
    "AsyncTaskgateClient",
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "InvalidRequestError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "ServiceUnavailableError",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskFilter",
    "TaskPendingError",
    "TaskTypeNotFoundError",
    "TaskgateClient",
    "TaskgateError",
    "UnauthorizedError",
]
