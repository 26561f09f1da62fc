"""Task records in Redis: what the api wrote when it queued a task, and everything known of it since.

A task's record (`taskgate:task:<id>`) is written before the task is sent, so `GET /tasks/{id}` can tell a
queued task from one that was never submitted; the worker adds when and where it started. Its result and
progress are Celery's own (`celery-task-meta-<id>`); its event log (`taskgate:events:<id>`) lists every
state and progress change in order.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.errors import ServiceUnavailableError, redis_errors
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


# KEYS: record and events of each task, in pairs. ARGV: when they were queued, expiry in seconds.
_CREATE = f"""
for i = 1, #KEYS, 2 do
  redis.call('HSET', KEYS[i], '{RecordField.QUEUED_AT}', ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
  redis.call('XADD', KEYS[i + 1], 'MAXLEN', '~', {EVENTS_MAX_LENGTH}, '*',
    '{EventField.TYPE}', '{TaskEventType.STATE.value}', '{EventField.STATUS}', '{TaskState.QUEUED.value}')
  redis.call('EXPIRE', KEYS[i + 1], ARGV[2])
end
"""


class TaskRecords:
    def __init__(self, redis: Redis, address: str, expires: int) -> None:
        self._redis = redis
        self._address = address
        self._expires = expires
        self._create = redis.register_script(_CREATE)
        #: Records asked for in this turn of the event loop, and what each asker awaits.
        self._queued: list[tuple[str, asyncio.Future[None]]] = []
        self._writing: set[asyncio.Task[None]] = set()

    async def create(self, task_id: str) -> None:
        """Record that the task is queued; raises `ServiceUnavailableError` when Redis does not answer.

        Every submission pays for this, so the records asked for in the same turn of the event loop are
        written together, by one script call: a burst costs Redis and the client a few dozen commands,
        not thousands.
        """
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._write_queued)
        self._queued.append((task_id, written))
        await written

    def _write_queued(self) -> None:
        batch, self._queued = self._queued, []
        writing = asyncio.ensure_future(self._write(batch))
        self._writing.add(writing)
        writing.add_done_callback(self._writing.discard)

    async def _write(self, batch: list[tuple[str, "asyncio.Future[None]"]]) -> None:
        keys = [key for task_id, _ in batch for key in (record_key(task_id), events_key(task_id))]
        failure: BaseException | None = None
        try:
            await self._create(keys=keys, args=[_now(), self._expires])
        except (RedisError, OSError) as exc:
            failure = exc
        for _, written in batch:
            if written.done():  # its request is gone
                continue
            if failure is None:
                written.set_result(None)
            else:
                written.set_exception(ServiceUnavailableError("redis", self._address, failure))

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
