"""A typed client of the taskgate api, sync and async, and the `taskgate` command."""

from taskgate_client.async_client import AsyncTaskgateClient
from taskgate_client.calls import DEFAULT_TASK_TIMEOUT, DEFAULT_URL
from taskgate_client.errors import (
    ApiConnectionError,
    ApiError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
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
    "InvalidRequestError",
    "NotFoundError",
    "ServerError",
    "ServiceUnavailableError",
    "TaskCancelledError",
    "TaskFailedError",
    "TaskPendingError",
    "TaskTypeNotFoundError",
    "TaskgateClient",
    "TaskgateError",
    "UnauthorizedError",
]
