"""A task's state as Celery's Redis result backend stores and publishes it, read without Celery."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from taskgate_contracts.progress import PROGRESS_STATE, Progress
from taskgate_contracts.responses import TaskState, TaskView
from taskgate_contracts.tasks import TIME_LIMIT_EXCEEDED, type_name

#: Why a cancelled task ended, as `GET /tasks/{id}` reports it.
CANCELLED_REASON = "cancelled by request"

_SUCCESS = "SUCCESS"
_REVOKED = "REVOKED"
_FAILURE_STATES = frozenset({"FAILURE", _REVOKED})
_RUNNING_STATES = frozenset({PROGRESS_STATE, "STARTED"})
_TIME_LIMIT_EXCEPTIONS = frozenset({"SoftTimeLimitExceeded", "TimeLimitExceeded"})


@dataclass(frozen=True, slots=True)
class ResultMeta:
    """One state of a task: Celery's state name, its result (or exception, or progress) and more."""

    state: str
    result: Any
    date_done: datetime | None
    worker: str | None
    #: The task type, when the backend stored the task's name beside its state.
    task: str | None

    @classmethod
    def from_json(cls, raw: bytes | str) -> "ResultMeta":
        meta = json.loads(raw)
        done, name = meta.get("date_done"), meta.get("name")
        return cls(
            state=str(meta.get("status", "")),
            result=meta.get("result"),
            date_done=datetime.fromisoformat(done) if isinstance(done, str) else None,
            worker=meta.get("worker"),
            task=type_name(name) if isinstance(name, str) else None,
        )

    @property
    def finished(self) -> bool:
        return self.state == _SUCCESS or self.state in _FAILURE_STATES

    @property
    def task_state(self) -> TaskState:
        if self.state == _SUCCESS:
            return TaskState.COMPLETED
        if self.state == _REVOKED:
            return TaskState.CANCELLED
        if self.state in _FAILURE_STATES:
            return TaskState.FAILED
        # RETRY, like PENDING, means the task waits in its queue for its next attempt.
        return TaskState.RUNNING if self.state in _RUNNING_STATES else TaskState.QUEUED

    @property
    def progress(self) -> Progress:
        if self.state == _SUCCESS:
            return Progress(percent=100, message="done")
        if self.state == PROGRESS_STATE and isinstance(self.result, dict):
            return Progress.model_validate(self.result)
        return Progress()

    @property
    def error(self) -> str:
        """Why the task failed, from the exception Celery stored; never a traceback."""
        if self.state == _REVOKED:
            return CANCELLED_REASON
        info = self.result if isinstance(self.result, dict) else {}
        exc_type = str(info.get("exc_type") or self.state.lower())
        if exc_type in _TIME_LIMIT_EXCEPTIONS:
            return TIME_LIMIT_EXCEEDED
        message = info.get("exc_message")
        if isinstance(message, list | tuple):
            message = " ".join(str(part) for part in message)
        return f"{exc_type}: {message}" if message else exc_type

    def applied_to(self, view: TaskView) -> TaskView:
        """The task's view with this state: status, progress, and the outcome once finished."""
        status = self.task_state
        return view.model_copy(
            update={
                "task": view.task or self.task,
                "status": status,
                "progress": self.progress,
                "result": self.result if status is TaskState.COMPLETED else None,
                "error": self.error if status in (TaskState.FAILED, TaskState.CANCELLED) else None,
                "finished_at": self.date_done,
                "worker": view.worker or self.worker,
            }
        )


def revoked_meta(task_id: str) -> str:
    """The state a task cancelled before it finished is stored in, as Celery's backend writes it."""
    return json.dumps(
        {
            "status": _REVOKED,
            "result": {"exc_type": "TaskRevokedError", "exc_message": [CANCELLED_REASON]},
            "traceback": None,
            "children": [],
            "date_done": datetime.now(UTC).isoformat(),
            "task_id": task_id,
        }
    )
