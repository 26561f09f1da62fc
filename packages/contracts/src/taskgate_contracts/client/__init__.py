"""A typed client of the taskgate api, sync and async, installed with `taskgate-contracts[client]`."""

try:
    import httpx  # noqa: F401  (imported first only to name the missing extra)
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        "taskgate_contracts.client needs httpx: install taskgate-contracts[client]", name=missing.name
    ) from missing

from taskgate_contracts.client.async_client import AsyncTaskgateClient
from taskgate_contracts.client.calls import DEFAULT_TASK_TIMEOUT, DEFAULT_URL
from taskgate_contracts.client.errors import (
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
from taskgate_contracts.client.sync_client import TaskgateClient

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
