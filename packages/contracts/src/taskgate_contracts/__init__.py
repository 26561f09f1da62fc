"""taskgate contracts: the models, task types and Redis layout the api and the worker agree on.

A team adds a task type with a `TaskSpec` (under the entry-point group `taskgate.tasks`) and a handler
(under `taskgate.handlers`); see `taskgate_contracts.tasks` and `taskgate_contracts.handlers`.
"""

from taskgate_contracts.connections import (
    BrokerNode,
    Connections,
    QueueType,
    describe_settings_error,
    task_exchange_type,
    task_queue_arguments,
)
from taskgate_contracts.events import TaskEvent, TaskEventType
from taskgate_contracts.handlers import Handler, TaskCancelled, TaskContext
from taskgate_contracts.progress import PROGRESS_STATE, Progress
from taskgate_contracts.registry import Registry, RegistryError, UnknownTaskTypeError, discover
from taskgate_contracts.requests import IDEMPOTENCY_HEADER
from taskgate_contracts.responses import (
    COMPLETED_MESSAGE,
    PENDING_MESSAGE,
    CheckResult,
    CompletedResponse,
    ConflictResponse,
    ErrorDetail,
    FailedResponse,
    HealthResponse,
    InternalErrorResponse,
    NotFoundResponse,
    PendingResponse,
    QueueState,
    ReadinessResponse,
    ServiceUnavailableResponse,
    SubmittedResponse,
    TaskLinks,
    TaskState,
    TaskView,
    TooLargeResponse,
    UnauthorizedResponse,
    UnknownTaskTypeResponse,
    ValidationErrorResponse,
    WebhookAttempt,
    WebhookState,
    WebhookView,
)
from taskgate_contracts.tasks import (
    TIME_LIMIT_EXCEEDED,
    RetryPolicy,
    TaskSettings,
    TaskSpec,
    TransientError,
    settings_in,
)
from taskgate_contracts.version import __version__

__all__ = [
    "COMPLETED_MESSAGE",
    "IDEMPOTENCY_HEADER",
    "PENDING_MESSAGE",
    "PROGRESS_STATE",
    "TIME_LIMIT_EXCEEDED",
    "BrokerNode",
    "CheckResult",
    "CompletedResponse",
    "ConflictResponse",
    "Connections",
    "ErrorDetail",
    "FailedResponse",
    "Handler",
    "HealthResponse",
    "InternalErrorResponse",
    "NotFoundResponse",
    "PendingResponse",
    "Progress",
    "QueueState",
    "QueueType",
    "ReadinessResponse",
    "Registry",
    "RegistryError",
    "RetryPolicy",
    "ServiceUnavailableResponse",
    "SubmittedResponse",
    "TaskCancelled",
    "TaskContext",
    "TaskEvent",
    "TaskEventType",
    "TaskLinks",
    "TaskSettings",
    "TaskSpec",
    "TaskState",
    "TaskView",
    "TooLargeResponse",
    "TransientError",
    "UnauthorizedResponse",
    "UnknownTaskTypeError",
    "UnknownTaskTypeResponse",
    "ValidationErrorResponse",
    "WebhookAttempt",
    "WebhookState",
    "WebhookView",
    "__version__",
    "describe_settings_error",
    "discover",
    "settings_in",
    "task_exchange_type",
    "task_queue_arguments",
]
