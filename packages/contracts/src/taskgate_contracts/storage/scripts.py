"""Every write to a task's record and event log, as Lua scripts: atomic, and the same for both sides.

The api and the worker each register a script with their own Redis client (EVALSHA, falling back to
EVAL once per server) and pass it the keys and arguments the functions here build.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from taskgate_contracts.events import TaskEventType
from taskgate_contracts.progress import Progress
from taskgate_contracts.responses import TaskState, WebhookAttempt, WebhookState
from taskgate_contracts.storage.keys import EVENTS_MAX_LENGTH, events_key, record_key, result_key
from taskgate_contracts.storage.records import EventField, RecordField, WebhookTarget

#: The api queues tasks. KEYS: record and events of each task, in pairs. ARGV: when they were queued,
#: expiry in seconds, then for each task, in the order of the pairs, its type, its callback URL and the
#: name of the API key it came with (both empty when it has no callback URL; the key when it has no name).
CREATE = f"""
for i = 1, #KEYS, 2 do
  local at = 3 + (i - 1) / 2 * 3
  redis.call('HSET', KEYS[i], '{RecordField.QUEUED_AT}', ARGV[1], '{RecordField.TASK}', ARGV[at])
  if ARGV[at + 1] ~= '' then
    redis.call('HSET', KEYS[i], '{RecordField.WEBHOOK_URL}', ARGV[at + 1])
    if ARGV[at + 2] ~= '' then redis.call('HSET', KEYS[i], '{RecordField.WEBHOOK_KEY}', ARGV[at + 2]) end
  end
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


#: Whoever records a task's end (the worker that ran it, the api that cancelled it) claims its webhook;
#: exactly one claim succeeds, and that one sends the delivery. Answers 1 to the one that claimed it, 0
#: to the others and when the task has no callback URL. KEYS: record. ARGV: when.
CLAIM_WEBHOOK = f"""
if redis.call('HEXISTS', KEYS[1], '{RecordField.WEBHOOK_URL}') == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], '{RecordField.WEBHOOK_CLAIMED}', ARGV[1])
"""

#: The delivery notes how it went, unless the record has expired. KEYS: record. ARGV: expiry, state,
#: attempts (JSON), when the next attempt is due (empty: none is).
NOTE_WEBHOOK = f"""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], '{RecordField.WEBHOOK_STATE}', ARGV[2], '{RecordField.WEBHOOK_ATTEMPTS}', ARGV[3])
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[1], '{RecordField.WEBHOOK_NEXT_AT}')
else
  redis.call('HSET', KEYS[1], '{RecordField.WEBHOOK_NEXT_AT}', ARGV[4])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


def create_keys(task_ids: Sequence[str]) -> list[str]:
    return [key for task_id in task_ids for key in (record_key(task_id), events_key(task_id))]


def create_args(
    queued_at: str, expires: int, tasks: Sequence[tuple[str, WebhookTarget | None]]
) -> list[str | int]:
    """The arguments of CREATE for tasks given as (type, webhook target or None)."""
    args: list[str | int] = [queued_at, expires]
    for task_type, webhook in tasks:
        args += [task_type, "", ""] if webhook is None else [task_type, webhook.url, webhook.key or ""]
    return args


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


def webhook_note(
    expires: int, state: WebhookState, attempts: Sequence[WebhookAttempt], next_at: datetime | None
) -> list[str | int]:
    """The arguments of NOTE_WEBHOOK."""
    listed = json.dumps([attempt.model_dump(mode="json") for attempt in attempts])
    return [expires, state.value, listed, "" if next_at is None else next_at.isoformat()]


def cancel_keys(task_id: str) -> list[str]:
    return [record_key(task_id), result_key(task_id)]


def _flat(fields: Mapping[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]
