"""What HTTP clients get back. Field names, status values and messages are the seed's."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

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


class TaskView(BaseModel):
    """The state of one task, as `GET /tasks/{task_id}` reports it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "task_id": "6f1c…",
                    "status": "running",
                    "progress": {"percent": 40.0, "current": 8, "total": 20, "message": "slept 4 of 10 s"},
                    "result": None,
                    "error": None,
                    "queued_at": "2026-11-24T10:00:00Z",
                    "started_at": "2026-11-24T10:00:00.004Z",
                    "finished_at": None,
                    "worker": "worker1@host",
                }
            ]
        }
    )

    task_id: str
    status: TaskState
    progress: Progress = Field(default_factory=Progress)
    result: str | None = Field(None, description="The result, once completed.")
    error: str | None = Field(None, description="Why it failed or was cancelled.")
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = Field(None, description="The worker that ran it.")


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


class TooLargeResponse(BaseModel):
    """The request body is larger than the api takes."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "the request body must be at most 16384 bytes"}]}
    )

    detail: str


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


class ReadinessResponse(BaseModel):
    """Whether the api can do its work: RabbitMQ, Redis and at least one worker reachable."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "unavailable",
                    "checks": {
                        "rabbitmq": {"ok": True, "detail": "RabbitMQ at 127.0.0.1:5672"},
                        "redis": {"ok": True, "detail": "Redis at 127.0.0.1:6379"},
                        "workers": {"ok": False, "detail": "no worker answered a ping"},
                    },
                }
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckResult]
