"""Task records in Redis: what the api wrote when it queued a task, and everything known of it since.

A task's record (`taskgate:task:<id>`) is written before the task is sent, so `GET /tasks/{id}` can tell a
queued task from one that was never submitted; the worker adds when and where it started. Its result and
progress are Celery's own (`celery-task-meta-<id>`); its event log (`taskgate:events:<id>`) lists every
state and progress change in order.
"""

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.errors import redis_errors
from taskgate_api.results import ResultMeta
from taskgate_contracts import Progress, TaskEventType, TaskState, TaskView
from taskgate_contracts.storage import (
    EVENTS_MAX_LENGTH,
    EventField,
    RecordField,
    events_key,
    record_key,
    result_key,
)

#: Stream entries as the client returns them: (id, fields), all bytes.
_Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One entry of a task's event log."""

    id: str
    type: TaskEventType
    status: TaskState
    progress: Progress
    started_at: str | None
    worker: str | None

    def applied_to(self, view: TaskView) -> TaskView:
        """The task as it was right after this event."""
        return view.model_copy(
            update={
                "status": self.status,
                "progress": self.progress,
                "started_at": self.started_at or view.started_at,
                "worker": self.worker or view.worker,
            }
        )


# KEYS: record, events. ARGV: when it was queued, expiry in seconds.
_CREATE = f"""
redis.call('HSET', KEYS[1], '{RecordField.QUEUED_AT}', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', {EVENTS_MAX_LENGTH}, '*',
  '{EventField.TYPE}', '{TaskEventType.STATE.value}', '{EventField.STATUS}', '{TaskState.QUEUED.value}')
redis.call('EXPIRE', KEYS[2], ARGV[2])
"""


class TaskRecords:
    def __init__(self, redis: Redis, address: str, expires: int) -> None:
        self._redis = redis
        self._address = address
        self._expires = expires
        # One command per submitted task: every request pays for it, and a script is the least work
        # for both the client and Redis.
        self._create = redis.register_script(_CREATE)

    async def create(self, task_id: str) -> None:
        """Record that the task is queued; raises `ServiceUnavailableError` when Redis does not answer."""
        with redis_errors(self._address):
            await self._create(keys=[record_key(task_id), events_key(task_id)], args=[_now(), self._expires])

    async def discard(self, task_id: str) -> None:
        """Forget a task that was never sent (RabbitMQ refused it); best effort."""
        with contextlib.suppress(RedisError, OSError):  # if not, the records expire by themselves
            await self._redis.delete(record_key(task_id), events_key(task_id))

    async def view(self, task_id: str) -> TaskView | None:
        """Everything known of the task, or None when it was never submitted or has expired."""
        with redis_errors(self._address):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(record_key(task_id))
                pipe.get(result_key(task_id))
                record, raw_meta = await pipe.execute()
        fields = {key.decode(): value.decode() for key, value in record.items()}
        if raw_meta is None and not fields:
            return None
        view = TaskView(
            task_id=task_id,
            status=TaskState.RUNNING if RecordField.STARTED_AT in fields else TaskState.QUEUED,
            queued_at=fields.get(RecordField.QUEUED_AT),
            started_at=fields.get(RecordField.STARTED_AT),
            worker=fields.get(RecordField.WORKER),
        )
        meta = None if raw_meta is None else ResultMeta.from_json(raw_meta)
        if RecordField.CANCELLED_AT in fields and not (meta is not None and meta.finished):
            # The cancel mark is the word: a progress report may have overwritten the stored state since.
            meta = ResultMeta.from_json(ResultMeta.revoked(task_id))
        return view if meta is None else meta.applied_to(view)

    async def events_after(self, task_id: str, cursor: str) -> list[LoggedEvent]:
        """The task's logged events after `cursor` (an event id; "0-0" for all), oldest first."""
        with redis_errors(self._address):
            entries = cast(_Entries, await self._redis.xrange(events_key(task_id), f"({cursor}", "+"))
        return [_logged_event(entry_id.decode(), fields) for entry_id, fields in entries]

    async def last_event_id(self, task_id: str) -> str:
        with redis_errors(self._address):
            entries = cast(_Entries, await self._redis.xrevrange(events_key(task_id), "+", "-", 1))
        return entries[0][0].decode() if entries else "0-0"

    async def result(self, task_id: str) -> ResultMeta | None:
        """The task's latest stored state, if any."""
        with redis_errors(self._address):
            raw = await self._redis.get(result_key(task_id))
        return None if raw is None else ResultMeta.from_json(raw)

    async def cancel(self, task_id: str) -> None:
        """Mark the task cancelled: the worker skips it, or stops at its next step and stores it revoked."""
        revoked = ResultMeta.revoked(task_id)
        with redis_errors(self._address):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(record_key(task_id), RecordField.CANCELLED_AT, _now())
                pipe.set(result_key(task_id), revoked, ex=self._expires)
                pipe.publish(result_key(task_id), revoked)  # as the worker's backend does, for waiters
                await pipe.execute()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _logged_event(entry_id: str, raw: dict[bytes, bytes]) -> LoggedEvent:
    fields = {key.decode(): value.decode() for key, value in raw.items()}
    progress = fields.get(EventField.PROGRESS)
    return LoggedEvent(
        id=entry_id,
        type=TaskEventType(fields[EventField.TYPE]),
        status=TaskState(fields[EventField.STATUS]),
        progress=Progress.model_validate(json.loads(progress)) if progress else Progress(),
        started_at=fields.get(EventField.STARTED_AT),
        worker=fields.get(EventField.WORKER),
    )
