"""taskgate contracts: the models and task signatures the api and the worker agree on."""

from taskgate_contracts.connections import Connections, describe_settings_error
from taskgate_contracts.events import TaskEvent, TaskEventType
from taskgate_contracts.progress import PROGRESS_STATE, Progress
from taskgate_contracts.requests import IDEMPOTENCY_HEADER, Delay, ProcessRequest
from taskgate_contracts.responses import (
    COMPLETED_MESSAGE,
    PENDING_MESSAGE,
    CheckResult,
    CompletedResponse,
    ConflictResponse,
    ErrorDetail,
    FailedResponse,
    HealthResponse,
    NotFoundResponse,
    PendingResponse,
    ReadinessResponse,
    ServiceUnavailableResponse,
    SubmittedResponse,
    TaskLinks,
    TaskState,
    TaskView,
    TooLargeResponse,
    ValidationErrorResponse,
)
from taskgate_contracts.tasks import (
    ALL_TASKS,
    PROCESS,
    TIME_LIMIT_EXCEEDED,
    ProcessArgs,
    ProcessResult,
    TaskSpec,
)
from taskgate_contracts.version import __version__

__all__ = [
    "ALL_TASKS",
    "COMPLETED_MESSAGE",
    "IDEMPOTENCY_HEADER",
    "PENDING_MESSAGE",
    "PROCESS",
    "PROGRESS_STATE",
    "TIME_LIMIT_EXCEEDED",
    "CheckResult",
    "CompletedResponse",
    "ConflictResponse",
    "Connections",
    "Delay",
    "ErrorDetail",
    "FailedResponse",
    "HealthResponse",
    "NotFoundResponse",
    "PendingResponse",
    "ProcessArgs",
    "ProcessRequest",
    "ProcessResult",
    "Progress",
    "ReadinessResponse",
    "ServiceUnavailableResponse",
    "SubmittedResponse",
    "TaskEvent",
    "TaskEventType",
    "TaskLinks",
    "TaskSpec",
    "TaskState",
    "TaskView",
    "TooLargeResponse",
    "ValidationErrorResponse",
    "__version__",
    "describe_settings_error",
]
