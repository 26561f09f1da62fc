"""Every write to a task's record and event log, as Lua scripts: atomic, and the same for both sides.

The api and the worker each register a script with their own Redis client (EVALSHA, falling back to
EVAL once per server) and pass it the keys and arguments the functions here build.
"""

from collections.abc import Mapping, Sequence

from taskgate_contracts.events import TaskEventType
from taskgate_contracts.progress import Progress
from taskgate_contracts.responses import TaskState
from taskgate_contracts.storage.keys import EVENTS_MAX_LENGTH, events_key, record_key, result_key
from taskgate_contracts.storage.records import EventField, RecordField

#: The api queues tasks. KEYS: record and events of each task, in pairs. ARGV: when they were queued,
#: expiry in seconds, then each task's type, in the order of the pairs.
CREATE = f"""
for i = 1, #KEYS, 2 do
  redis.call('HSET', KEYS[i], '{RecordField.QUEUED_AT}', ARGV[1], '{RecordField.TASK}', ARGV[2 + (i + 1) / 2])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
  redis.call('XADD', KEYS[i + 1], 'MAXLEN', '~', {EVENTS_MAX_LENGTH}, '*',
    '{EventField.TYPE}', '{TaskEventType.STATE.value}', '{EventField.STATUS}', '{TaskState.QUEUED.value}')
  redis.call('EXPIRE', KEYS[i + 1], ARGV[2])
end
"""

#: The worker notes a start or a progress report, unless the task was cancelled (then it writes nothing
#: and answers 1). KEYS: record, events. ARGV: expiry, number of record fields n, n field/value pairs,
#: then the event's field/value pairs.
NOTE_UNLESS_CANCELLED = f"""
if redis.call('HEXISTS', KEYS[1], '{RecordField.CANCELLED_AT}') == 1 then return 1 end
local expires, pairs = tonumber(ARGV[1]), tonumber(ARGV[2]) * 2
if pairs > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + pairs))
  redis.call('EXPIRE', KEYS[1], expires)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', {EVENTS_MAX_LENGTH}, '*', unpack(ARGV, 3 + pairs))
redis.call('EXPIRE', KEYS[2], expires)
return 0
"""

#: The api cancels a task that has not finished: it marks the record (the worker checks the mark),
#: stores the task revoked and publishes that, as the worker's backend would, for whoever waits. A task
#: that has finished meanwhile is left as it is, and its stored state is the answer. KEYS: record,
#: result. ARGV: when, the revoked state, expiry in seconds.
CANCEL = f"""
local stored = redis.call('GET', KEYS[2])
if stored then
  local status = cjson.decode(stored)['status']
  if status == 'SUCCESS' or status == 'FAILURE' or status == 'REVOKED' then return stored end
end
redis.call('HSET', KEYS[1], '{RecordField.CANCELLED_AT}', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('PUBLISH', KEYS[2], ARGV[2])
return false
"""


def create_keys(task_ids: Sequence[str]) -> list[str]:
    return [key for task_id in task_ids for key in (record_key(task_id), events_key(task_id))]


def create_args(queued_at: str, expires: int, task_types: Sequence[str]) -> list[str | int]:
    return [queued_at, expires, *task_types]


def note_keys(task_id: str) -> list[str]:
    return [record_key(task_id), events_key(task_id)]


def start_note(expires: int, started_at: str, worker: str, attempt: int) -> list[str | int]:
    """The arguments of NOTE_UNLESS_CANCELLED for the start of an attempt."""
    record = {
        RecordField.STARTED_AT: started_at,
        RecordField.WORKER: worker,
        RecordField.ATTEMPT: str(attempt),
    }
    event = {
        EventField.TYPE: TaskEventType.STATE,
        EventField.STATUS: TaskState.RUNNING,
        EventField.STARTED_AT: started_at,
        EventField.WORKER: worker,
    }
    return _note(expires, event, record)


def progress_note(expires: int, progress: Progress) -> list[str | int]:
    """The arguments of NOTE_UNLESS_CANCELLED for a progress report."""
    event = {
        EventField.TYPE: TaskEventType.PROGRESS,
        EventField.STATUS: TaskState.RUNNING,
        EventField.PROGRESS: progress.model_dump_json(),
    }
    return _note(expires, event, {})


def _note(expires: int, event: Mapping[str, str], record: Mapping[str, str]) -> list[str | int]:
    return [expires, len(record), *_flat(record), *_flat(event)]


def cancel_keys(task_id: str) -> list[str]:
    return [record_key(task_id), result_key(task_id)]


def _flat(fields: Mapping[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]
