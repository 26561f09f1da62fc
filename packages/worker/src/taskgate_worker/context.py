"""The `TaskContext` a handler gets: who it runs as, and progress and cancellation through the journal."""

from celery import Task

from taskgate_contracts import PROGRESS_STATE, Progress, TaskCancelled, TaskSettings
from taskgate_worker.journal import is_cancelled, note_progress


class RunningTask:
    """One attempt of a task, as its handler sees it."""

    __slots__ = ("_settings", "_task")

    def __init__(self, task: Task, settings: TaskSettings | None) -> None:
        self._task = task
        self._settings = settings

    @property
    def task_id(self) -> str:
        task_id: str = self._task.request.id
        return task_id

    @property
    def attempt(self) -> int:
        retries: int = self._task.request.retries
        return retries + 1

    @property
    def settings(self) -> TaskSettings | None:
        return self._settings

    def report(self, percent: float, message: str = "", *, current: int = 0, total: int = 0) -> None:
        progress = Progress(percent=percent, current=current, total=total, message=message)
        # Logged before it is published, so a follower woken by the publish finds it in the log.
        if note_progress(self._task, progress):
            raise TaskCancelled()
        self._task.update_state(state=PROGRESS_STATE, meta=progress.model_dump(mode="json"))

    def raise_if_cancelled(self) -> None:
        if is_cancelled(self._task):
            raise TaskCancelled()
