"""What HTTP clients get back. Field names, status values and messages are the seed's."""

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskgate_contracts.progress import Progress

COMPLETED_MESSAGE = "Запрос выполнен успешно"
PENDING_MESSAGE = "Пока не можем обработать ваш запрос, попробуйте позже"

_Time = Field(description="Seconds since the api received the request, queue time included.", ge=0)
_TaskId = Field(description="The task's id; follow it at /tasks/{task_id}.")


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """The task will not change any more."""
        return self in _TERMINAL_STATES


_TERMINAL_STATES = frozenset({TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED})


class CompletedResponse(BaseModel):
    """The task finished within TASK_TIMEOUT."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "completed", "result": COMPLETED_MESSAGE, "time": 2.003, "task_id": "6f1c…"}
            ]
        }
    )

    status: Literal["completed"] = "completed"
    result: str
    time: float = _Time
    task_id: str = _TaskId


class PendingResponse(BaseModel):
    """The task did not finish within TASK_TIMEOUT; it keeps running."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "pending", "message": PENDING_MESSAGE, "time": 30.001, "task_id": "6f1c…"}
            ]
        }
    )

    status: Literal["pending"] = "pending"
    message: str = PENDING_MESSAGE
    time: float = _Time
    task_id: str = _TaskId


class FailedResponse(BaseModel):
    """The task failed: it raised, or ran past its time limit."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "failed", "error": "time limit exceeded", "time": 5.01, "task_id": "6f1c…"}
            ]
        }
    )

    status: Literal["failed"] = "failed"
    error: str = Field(description="Why the task failed, without a traceback.")
    time: float = _Time
    task_id: str = _TaskId


class WebhookState(StrEnum):
    """Where a task's completion webhook is: `pending` until its first attempt, `delivering` while an
    attempt failed and another is due, then `delivered` (the receiver answered 2xx) or `failed` (it did
    not within WEBHOOK_DEADLINE, or the destination is refused)."""

    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookAttempt(BaseModel):
    """One attempt to deliver a task's completion webhook."""

    at: datetime = Field(description="When the attempt was made.")
    status: int | None = Field(None, description="The receiver's HTTP status; null when it gave none.")
    error: str | None = Field(None, description="Why the attempt did not deliver; null when it did.")


class WebhookView(BaseModel):
    """The task's completion webhook: where its view is posted once it ends, and how that went."""

    url: str = Field(description="The `callback_url` the task was submitted with.")
    state: WebhookState
    attempts: list[WebhookAttempt] = Field(default_factory=list, description="Oldest first.")
    next_attempt_at: datetime | None = Field(None, description="When the next attempt is due, if one is.")


class TaskView(BaseModel):
    """The state of one task, as `GET /tasks/{task_id}` reports it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "task_id": "6f1c…",
                    "task": "process",
                    "status": "running",
                    "progress": {"percent": 40.0, "current": 8, "total": 20, "message": "slept 4 of 10 s"},
                    "result": None,
                    "error": None,
                    "attempts": 1,
                    "queued_at": "2026-11-24T10:00:00Z",
                    "started_at": "2026-11-24T10:00:00.004Z",
                    "finished_at": None,
                    "worker": "taskgate-process-4242@host",
                    "submitted_by": "reports",
                    "expires_at": "2026-11-25T10:00:03Z",
                    "webhook": None,
                },
                {
                    "task_id": "6f1c…",
                    "task": "process",
                    "status": "completed",
                    "progress": {"percent": 100.0, "current": 0, "total": 0, "message": "done"},
                    "result": {"result": COMPLETED_MESSAGE, "delay": 2},
                    "error": None,
                    "attempts": 1,
                    "queued_at": "2026-11-24T10:00:00Z",
                    "started_at": "2026-11-24T10:00:00.004Z",
                    "finished_at": "2026-11-24T10:00:02.006Z",
                    "worker": "taskgate-process-4242@host",
                    "submitted_by": "reports",
                    "expires_at": "2026-11-25T10:00:03Z",
                    "webhook": {
                        "url": "https://hooks.example.com/taskgate",
                        "state": "delivering",
                        "attempts": [
                            {"at": "2026-11-24T10:00:02.031Z", "status": 503, "error": "HTTP 503"},
                        ],
                        "next_attempt_at": "2026-11-24T10:00:03.712Z",
                    },
                },
            ]
        }
    )

    task_id: str
    task: str | None = Field(None, description="Its task type.")
    status: TaskState
    progress: Progress = Field(default_factory=Progress)
    result: Any = Field(None, description="Once completed, what it returned: its task type's result model.")
    error: str | None = Field(None, description="Why it failed or was cancelled.")
    attempts: int = Field(0, ge=0, description="Attempts started so far; more than one after a retry.")
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = Field(None, description="The worker that ran it.")
    submitted_by: str | None = Field(
        None, description="The name of the API key that submitted it (never the key); null without keys."
    )
    expires_at: datetime | None = Field(
        None,
        description="When its record is forgotten (RESULT_EXPIRES after its last change); afterwards "
        "`GET /tasks/{task_id}` answers 410.",
    )
    webhook: WebhookView | None = Field(None, description="Its completion webhook, if it has a callback_url.")


class TaskLinks(BaseModel):
    """Where to follow a task."""

    self: str = Field(description="`GET` for its state (`?wait=N` waits for the end).")
    events: str = Field(description="Server-Sent Events with every change.")
    cancel: str = Field(description="`DELETE` to cancel it.")

    @classmethod
    def for_task(cls, task_id: str) -> "TaskLinks":
        path = f"/tasks/{task_id}"
        return cls(self=path, events=f"{path}/events", cancel=path)


class SubmittedResponse(BaseModel):
    """The task is queued; follow it by its links."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "task_id": "6f1c…",
                    "status": "queued",
                    "links": {
                        "self": "/tasks/6f1c…",
                        "events": "/tasks/6f1c…/events",
                        "cancel": "/tasks/6f1c…",
                    },
                }
            ]
        }
    )

    task_id: str
    status: TaskState = TaskState.QUEUED
    links: TaskLinks


class ServiceUnavailableResponse(BaseModel):
    """A service the api needs is unreachable."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "unavailable",
                    "service": "rabbitmq",
                    "detail": "RabbitMQ is unreachable at 127.0.0.1:5672: Connection refused",
                }
            ]
        }
    )

    status: Literal["unavailable"] = "unavailable"
    service: Literal["rabbitmq", "redis"]
    detail: str


class ErrorDetail(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    """The request was refused: `detail` says which part is wrong and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "loc": ["body", "delay"],
                            "msg": "Input should be greater than or equal to 0",
                            "type": "greater_than_equal",
                        }
                    ]
                }
            ]
        }
    )

    detail: list[ErrorDetail]


class NotFoundResponse(BaseModel):
    """No such task: it was never submitted, or it has expired."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "task 6f1c… was never submitted or has expired"}]}
    )

    detail: str


class GoneResponse(BaseModel):
    """The task existed, but its record has expired (RESULT_EXPIRES): its outcome is no longer known."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "task 6f1c… has expired: its record was kept for RESULT_EXPIRES seconds",
                    "task_id": "6f1c…",
                }
            ]
        }
    )

    detail: str
    task_id: str


class ForbiddenResponse(BaseModel):
    """The key is valid, but its role may not do this (an `admin` key may)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"detail": "this operation needs an admin key; key 'reports' is a client"}]
        }
    )

    detail: str


class TooManyRequestsResponse(BaseModel):
    """The key is over one of its limits: `policy` names which (its `RateLimit-Policy` item); try again
    after `Retry-After` seconds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "key 'reports' is over its limit of 10 requests per second",
                    "policy": "rate",
                    "limit": 10,
                }
            ]
        }
    )

    detail: str
    policy: Literal["rate", "in-flight"] = Field(
        description="`rate`: requests per second; `in-flight`: tasks queued or running."
    )
    limit: int = Field(ge=1, description="The key's limit under that policy.")


class UnknownTaskTypeResponse(BaseModel):
    """No task type of that name is installed; `known` lists those that are."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "unknown task type 'resize'; known: process, thumbnail",
                    "known": ["process", "thumbnail"],
                }
            ]
        }
    )

    detail: str
    known: list[str]


class UnauthorizedResponse(BaseModel):
    """The api requires a key (API_KEYS) and the request carries none that it knows."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"detail": "a valid API key is required: Authorization: Bearer <key>"}]
        }
    )

    detail: str


class TooLargeResponse(BaseModel):
    """The request body is larger than the api takes."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "the request body must be at most 16384 bytes"}]}
    )

    detail: str


class InternalErrorResponse(BaseModel):
    """The api failed in a way it did not foresee. Nothing of the failure is in the answer: `error_id`
    finds its traceback in the api's log."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "the api failed unexpectedly; its log names error 3f2a9c1e0b7d",
                    "error_id": "3f2a9c1e0b7d",
                }
            ]
        }
    )

    detail: str
    error_id: str = Field(description="Names the failure in the api's log, with its traceback.")


class ConflictResponse(BaseModel):
    """The request conflicts with the task's state (for example, cancelling a finished task)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "task 6f1c… has already finished", "status": "completed"}]}
    )

    detail: str
    status: TaskState


class HealthResponse(BaseModel):
    """The process is alive."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class CheckResult(BaseModel):
    ok: bool
    detail: str


class QueueState(BaseModel):
    """One task queue as RabbitMQ reports it: how many messages wait in it and how many workers take them."""

    queue: str
    tasks: list[str] = Field(description="The task types whose messages go to this queue.")
    messages: int | None = Field(None, ge=0, description="Messages ready in it; null when unknown.")
    consumers: int | None = Field(None, ge=0, description="Workers consuming it; null when unknown.")
    detail: str = Field(description="What is wrong with it, or a summary.")


class ReadinessResponse(BaseModel):
    """Whether the api can do its work: RabbitMQ, Redis and at least one worker reachable. `queues`
    tells, per task queue, whether any worker consumes it: a queue nobody consumes is named there, but
    does not make the api unready, since its other task types still run."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "rabbitmq": {"ok": True, "detail": "RabbitMQ at 127.0.0.1:5672"},
                        "redis": {"ok": True, "detail": "Redis at 127.0.0.1:6379, results subscribed"},
                        "workers": {"ok": True, "detail": "1 worker(s): taskgate-process-4242@host"},
                    },
                    "queues": [
                        {
                            "queue": "taskgate",
                            "tasks": ["process"],
                            "messages": 0,
                            "consumers": 1,
                            "detail": "0 waiting, 1 consumer(s)",
                        },
                        {
                            "queue": "taskgate.thumbnail",
                            "tasks": ["thumbnail"],
                            "messages": 3,
                            "consumers": 0,
                            "detail": "no worker consumes it: start one with --tasks thumbnail",
                        },
                    ],
                }
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckResult]
    queues: list[QueueState] = Field(default_factory=list)
