"""What the worker notes in Redis beside Celery's result: the task's start, its event log, cancellation.

Each note is the contracts' one atomic script, which writes nothing if the api has cancelled the task, so
a cancelled task is skipped before it starts and stopped at its next progress report — even across worker
restarts, since the mark lives in Redis, not in a worker's memory. Notes go through the result backend's
client and retry policy, so a Redis blip delays a note instead of failing the job.
"""

from datetime import UTC, datetime
from typing import Any

from celery import Task

from taskgate_contracts import Progress
from taskgate_contracts.storage import RecordField, record_key
from taskgate_contracts.storage.scripts import NOTE_UNLESS_CANCELLED, note_keys, progress_note, start_note


def note_start(task: Task) -> bool:
    """Record when, where and on which attempt the task started, and log it; True if it was cancelled."""
    started_at = datetime.now(UTC).isoformat()
    note = start_note(task.app.backend.expires, started_at, task.request.hostname, task.request.retries + 1)
    return _note(task, note)


def note_progress(task: Task, progress: Progress) -> bool:
    """Log a progress report; True if the task was cancelled."""
    return _note(task, progress_note(task.app.backend.expires, progress))


def is_cancelled(task: Task) -> bool:
    """Whether the api has marked the task cancelled."""
    backend = task.app.backend
    key = record_key(task.request.id)
    return bool(backend.ensure(lambda: backend.client.hexists(key, RecordField.CANCELLED_AT), ()))


def _note(task: Task, args: list[str | int]) -> bool:
    backend = task.app.backend
    keys = note_keys(task.request.id)

    def run() -> Any:
        # EVALSHA, falling back to EVAL once per Redis server: the script is not resent every time.
        return backend.client.register_script(NOTE_UNLESS_CANCELLED)(keys=keys, args=args)

    return bool(backend.ensure(run, ()))
