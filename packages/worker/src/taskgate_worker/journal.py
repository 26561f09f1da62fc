"""What the worker notes in Redis beside Celery's result: the task's start, its event log, cancellation.

Each note is one atomic script that writes nothing if the api has cancelled the task, so a cancelled
task is skipped before it starts and stopped at its next progress step — even across worker restarts,
since the mark lives in Redis, not in a worker's memory. Notes go through the result backend's client and
retry policy, so a Redis blip delays a note instead of failing the job.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from celery import Task

from taskgate_contracts import Progress, TaskEventType, TaskState
from taskgate_contracts.storage import EVENTS_MAX_LENGTH, EventField, RecordField, events_key, record_key


def note_start(task: Task) -> bool:
    """Record when and where the task started and log it; True if the task was cancelled."""
    started = {
        RecordField.STARTED_AT: datetime.now(UTC).isoformat(),
        RecordField.WORKER: task.request.hostname,
    }
    event = {
        EventField.TYPE: TaskEventType.STATE,
        EventField.STATUS: TaskState.RUNNING,
        EventField.STARTED_AT: started[RecordField.STARTED_AT],
        EventField.WORKER: started[RecordField.WORKER],
    }
    return _note(task, event, record=started)


def note_progress(task: Task, progress: Progress) -> bool:
    """Log a progress report; True if the task was cancelled."""
    event = {
        EventField.TYPE: TaskEventType.PROGRESS,
        EventField.STATUS: TaskState.RUNNING,
        EventField.PROGRESS: progress.model_dump_json(),
    }
    return _note(task, event)


# KEYS: record, events. ARGV: expiry, max events, number of record fields n, n record pairs, event pairs.
_NOTE_UNLESS_CANCELLED = f"""
if redis.call('HEXISTS', KEYS[1], '{RecordField.CANCELLED_AT}') == 1 then return 1 end
local expires, pairs = tonumber(ARGV[1]), tonumber(ARGV[3]) * 2
if pairs > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + pairs))
  redis.call('EXPIRE', KEYS[1], expires)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4 + pairs))
redis.call('EXPIRE', KEYS[2], expires)
return 0
"""


def _note(task: Task, event: Mapping[str, str], record: Mapping[str, str] | None = None) -> bool:
    backend = task.app.backend
    task_id: str = task.request.id
    record = record or {}
    args = [backend.expires, EVENTS_MAX_LENGTH, len(record), *_flat(record), *_flat(event)]

    def run() -> Any:
        # EVALSHA, falling back to EVAL once per Redis server: the script is not resent every time.
        script = backend.client.register_script(_NOTE_UNLESS_CANCELLED)
        return script(keys=[record_key(task_id), events_key(task_id)], args=args)

    return bool(backend.ensure(run, ()))


def _flat(fields: Mapping[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]
