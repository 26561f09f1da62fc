"""Reading back what the worker's Celery result backend wrote to Redis."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from taskgate_contracts import PROGRESS_STATE, TIME_LIMIT_EXCEEDED, Progress, TaskState, TaskView
from taskgate_contracts.storage import CANCELLED_REASON

#: Celery's states that end a task, and the ones that mean it failed.
_SUCCESS = "SUCCESS"
_REVOKED = "REVOKED"
_FAILURE_STATES = frozenset({"FAILURE", _REVOKED})
_RUNNING_STATES = frozenset({PROGRESS_STATE, "STARTED"})
_TIME_LIMIT_EXCEPTIONS = frozenset({"SoftTimeLimitExceeded", "TimeLimitExceeded"})


@dataclass(frozen=True, slots=True)
class ResultMeta:
    """One state of a task as Celery's Redis backend stores and publishes it."""

    state: str
    result: Any
    date_done: datetime | None
    worker: str | None

    @classmethod
    def from_json(cls, raw: bytes | str) -> "ResultMeta":
        meta = json.loads(raw)
        done = meta.get("date_done")
        return cls(
            state=str(meta.get("status", "")),
            result=meta.get("result"),
            date_done=datetime.fromisoformat(done) if isinstance(done, str) else None,
            worker=meta.get("worker"),
        )

    @staticmethod
    def revoked(task_id: str) -> str:
        """The state a cancelled task is stored in, in the format of Celery's Redis backend."""
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
        return TaskState.RUNNING if self.state in _RUNNING_STATES else TaskState.QUEUED

    @property
    def result_text(self) -> str:
        result = self.result if isinstance(self.result, dict) else {}
        return str(result.get("result", ""))

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
                "status": status,
                "progress": self.progress,
                "result": self.result_text if status is TaskState.COMPLETED else None,
                "error": self.error if status in (TaskState.FAILED, TaskState.CANCELLED) else None,
                "finished_at": self.date_done,
                "worker": view.worker or self.worker,
            }
        )
