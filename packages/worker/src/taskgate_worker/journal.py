"""What the worker notes in Redis beside Celery's result: the task's start, its event log, cancellation.

Each note is the contracts' one atomic script, which writes nothing if the api has cancelled the task, so
a cancelled task is skipped before it starts and stopped at its next progress report — even across worker
restarts, since the mark lives in Redis, not in a worker's memory. Notes go through the result backend's
client and retry policy, so a Redis blip delays a note instead of failing the job.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from celery import Celery, Task

from taskgate_contracts import Progress, TaskView, WebhookAttempt, WebhookState
from taskgate_contracts.storage import RecordField, ResultMeta, record_key, result_key, task_view
from taskgate_contracts.storage.scripts import (
    CLAIM_WEBHOOK,
    NOTE_UNLESS_CANCELLED,
    NOTE_WEBHOOK,
    note_keys,
    progress_note,
    start_note,
    webhook_note,
)


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


def task_state(app: Celery, task_id: str) -> TaskView | None:
    """The task's view, as the api reads it: None when it has expired."""
    backend = app.backend

    def read() -> list[Any]:
        with backend.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(record_key(task_id))
            pipe.get(result_key(task_id))
            pipe.execute_command("PEXPIRETIME", record_key(task_id))
            pipe.execute_command("PEXPIRETIME", result_key(task_id))
            replies: list[Any] = pipe.execute()
        return replies

    record, meta, *lives = backend.ensure(read, ())
    fields = {key.decode(): value.decode() for key, value in record.items()}
    return task_view(task_id, fields, None if meta is None else ResultMeta.from_json(meta), lives)


def claim_webhook(app: Celery, task_id: str) -> bool:
    """Claim the delivery of the task's webhook now that its end is recorded; True for the one claim that
    succeeds, False when another took it or the task has no callback URL."""
    backend = app.backend
    when = datetime.now(UTC).isoformat()

    def run() -> Any:
        return backend.client.register_script(CLAIM_WEBHOOK)(keys=[record_key(task_id)], args=[when])

    return bool(backend.ensure(run, ()))


def note_webhook(
    app: Celery,
    task_id: str,
    state: WebhookState,
    attempts: Sequence[WebhookAttempt],
    next_at: datetime | None,
) -> None:
    """Note on the task how its webhook's delivery stands."""
    backend = app.backend
    args = webhook_note(backend.expires, state, attempts, next_at)

    def run() -> Any:
        return backend.client.register_script(NOTE_WEBHOOK)(keys=[record_key(task_id)], args=args)

    backend.ensure(run, ())
