"""Every write to a task's record and event log, as Lua scripts: atomic, and the same for both sides.

The api and the worker each register a script with their own Redis client (EVALSHA, falling back to
EVAL once per server) and pass it the keys and arguments the functions here build.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from taskgate_contracts.events import TaskEventType
from taskgate_contracts.progress import Progress
from taskgate_contracts.responses import TaskState, WebhookAttempt, WebhookState
from taskgate_contracts.storage.keys import (
    EVENTS_MAX_LENGTH,
    HISTORY_CLOCK_KEY,
    IN_FLIGHT_KEY_PREFIX,
    INDEX_KEY,
    RESULT_KEY_PREFIX,
    TOMBSTONE_KEY_PREFIX,
    events_key,
    record_key,
    result_key,
    tombstone_key,
)
from taskgate_contracts.storage.records import EventField, RecordField

_RECORD_PREFIX = record_key("")
#: Marks a dead-lettered task as replayed, so a second replay is refused.
REPLAYED_KEY_PREFIX = "taskgate:replayed:"
_EVENTS_PREFIX = events_key("")

#: Whether the task named by `id` is still queued or running: its record exists (it has not expired and
#: was not discarded) and its stored state, if any, is not a final one. Celery's backend and CANCEL write
#: the final states, so a task that ends in any way — completed, failed, cancelled, its worker lost and
#: the task then failed or expired — stops counting without anyone having to remember to decrement.
_IN_FLIGHT = f"""
local function in_flight(id)
  if redis.call('EXISTS', '{_RECORD_PREFIX}' .. id) == 0 then return false end
  local stored = redis.call('GET', '{RESULT_KEY_PREFIX}' .. id)
  if stored then
    local status = cjson.decode(stored)['status']
    if status == 'SUCCESS' or status == 'FAILURE' or status == 'REVOKED' then return false end
  end
  return true
end
"""

#: The api queues tasks. For each it writes the record, the first event, a tombstone that outlives the
#: record (so an expired id answers 410, not 404) and the history's index entries, scored by Redis's own
#: clock so every api process and host orders them alike; each index drops entries older than the
#: history horizon as it grows. A task whose key has an in-flight limit is admitted first: when the key's
#: set of tasks in flight is full, the members that are no longer in flight are pruned, and if it is still
#: full the task is refused and nothing of it is written. The keys a task touches follow from its id,
#: type and key name, so they are built here (one Redis server, as taskgate uses, or one Sentinel master).
#: ARGV: when they were queued, expiry in seconds, history horizon in microseconds, tombstone expiry in
#: seconds, then per task: id, type, key name ('' without keys), in-flight limit (0: none), callback URL
#: ('' for none; the key name says whose webhook secret signs its deliveries).
#: Answers the 1-based positions of the tasks refused.
CREATE = (
    _IN_FLIGHT
    + f"""
-- Microseconds of Redis's clock, and never twice the same: each task's score is above the last one
-- given, so the history's order is total and follows the order of submission.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local last = tonumber(redis.call('GET', '{HISTORY_CLOCK_KEY}') or '0')
local queued_at, expires, horizon, tombstone = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local refused, position = {{}}, 0
for i = 5, #ARGV, 5 do
  position = position + 1
  local id, task, owner, callback = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 4]
  local limit = tonumber(ARGV[i + 3])
  local admitted = true
  if limit > 0 then
    local flight = '{IN_FLIGHT_KEY_PREFIX}' .. owner
    if redis.call('ZCARD', flight) >= limit then
      for _, member in ipairs(redis.call('ZRANGE', flight, 0, -1)) do
        if not in_flight(member) then redis.call('ZREM', flight, member) end
      end
    end
    if redis.call('ZCARD', flight) >= limit then
      admitted = false
      refused[#refused + 1] = position
    else
      redis.call('ZADD', flight, string.format('%d', now), id)
      redis.call('EXPIRE', flight, expires)
    end
  end
  if admitted then
    now = math.max(now, last + 1)
    last = now
    -- As a string written in full: Lua would render a number this large with 14 digits.
    local score = string.format('%d', now)
    local record = '{_RECORD_PREFIX}' .. id
    redis.call('HSET', record, '{RecordField.QUEUED_AT}', queued_at, '{RecordField.TASK}', task)
    if owner ~= '' then redis.call('HSET', record, '{RecordField.KEY}', owner) end
    if callback ~= '' then redis.call('HSET', record, '{RecordField.WEBHOOK_URL}', callback) end
    redis.call('EXPIRE', record, expires)
    local events = '{_EVENTS_PREFIX}' .. id
    redis.call('XADD', events, 'MAXLEN', '~', {EVENTS_MAX_LENGTH}, '*',
      '{EventField.TYPE}', '{TaskEventType.STATE.value}', '{EventField.STATUS}', '{TaskState.QUEUED.value}')
    redis.call('EXPIRE', events, expires)
    redis.call('SET', '{TOMBSTONE_KEY_PREFIX}' .. id, owner, 'EX', tombstone)
    local indexes = {{'{INDEX_KEY}', '{INDEX_KEY}:task:' .. task}}
    if owner ~= '' then
      indexes[3] = '{INDEX_KEY}:key:' .. owner
      indexes[4] = '{INDEX_KEY}:key:' .. owner .. ':task:' .. task
    end
    for _, index in ipairs(indexes) do
      redis.call('ZADD', index, score, id)
      redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. string.format('%d', now - horizon))
      redis.call('PEXPIRE', index, string.format('%d', horizon / 1000))
    end
  end
end
redis.call('SET', '{HISTORY_CLOCK_KEY}', string.format('%d', last))
return refused
"""
)

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


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task the api queues: its id and type, the name of the key that submits it (None without keys),
    that key's in-flight limit (None: no limit), and the URL its completion webhook goes to (None: none;
    the key's webhook secret signs it)."""

    task_id: str
    task_type: str
    key_name: str | None = None
    in_flight: int | None = None
    callback_url: str | None = None


@dataclass(frozen=True, slots=True)
class Retention:
    """How long the api keeps what it writes when it queues a task, in seconds: the record and events
    (RESULT_EXPIRES), the history's entries, and the tombstone that answers 410 once the record is gone."""

    expires: int
    history: int
    tombstone: int


def create_args(queued_at: str, retention: Retention, tasks: Sequence[NewTask]) -> list[str | int]:
    """The arguments of CREATE (it takes no keys)."""
    args: list[str | int] = [queued_at, retention.expires, retention.history * 1_000_000, retention.tombstone]
    for task in tasks:
        args += [
            task.task_id,
            task.task_type,
            task.key_name or "",
            task.in_flight or 0,
            task.callback_url or "",
        ]
    return args


#: The api replays a dead-lettered task as a new attempt: its stored outcome (the failure the worker
#: stored when it dead-lettered it), its start and its webhook's delivery are forgotten, its record says
#: queued again (made anew if it had expired) and its event log says so; a key's in-flight set counts it
#: again. Answers 0, or 1 when the task was replayed before (within the claim's expiry): a dead letter is
#: replayed once.
#: KEYS: record, events, result, replay claim, tombstone. ARGV: when, task type, expiry in seconds, task id.
REPLAY = f"""
if redis.call('SET', KEYS[4], ARGV[1], 'NX', 'EX', ARGV[3]) == false then return 1 end
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[1], '{RecordField.STARTED_AT}', '{RecordField.WORKER}', '{RecordField.CANCELLED_AT}',
  '{RecordField.WEBHOOK_CLAIMED}', '{RecordField.WEBHOOK_STATE}', '{RecordField.WEBHOOK_ATTEMPTS}',
  '{RecordField.WEBHOOK_NEXT_AT}')
if redis.call('HEXISTS', KEYS[1], '{RecordField.QUEUED_AT}') == 0 then
  redis.call('HSET', KEYS[1], '{RecordField.QUEUED_AT}', ARGV[1])
end
redis.call('HSET', KEYS[1], '{RecordField.TASK}', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', {EVENTS_MAX_LENGTH}, '*',
  '{EventField.TYPE}', '{TaskEventType.STATE.value}', '{EventField.STATUS}', '{TaskState.QUEUED.value}')
redis.call('EXPIRE', KEYS[2], ARGV[3])
local owner = redis.call('HGET', KEYS[1], '{RecordField.KEY}')
if not owner then
  -- The record expired: the tombstone still names the key that submitted the task.
  owner = redis.call('GET', KEYS[5])
  if owner == '' then owner = false end
  if owner then redis.call('HSET', KEYS[1], '{RecordField.KEY}', owner) end
end
if owner then redis.call('ZADD', '{IN_FLIGHT_KEY_PREFIX}' .. owner, 'NX', 0, ARGV[4]) end
return 0
"""


def replayed_key(task_id: str) -> str:
    """The claim a replay of the task's dead letter takes (REPLAY)."""
    return REPLAYED_KEY_PREFIX + task_id


def replay_keys(task_id: str) -> list[str]:
    return [
        record_key(task_id),
        events_key(task_id),
        result_key(task_id),
        replayed_key(task_id),
        tombstone_key(task_id),
    ]


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
