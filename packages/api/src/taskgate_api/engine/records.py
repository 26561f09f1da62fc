"""Task records in Redis: what the api wrote when it queued a task, and everything known of it since.

The layout is contracts' codec (`taskgate_contracts.storage`), which the worker writes through too: a
task's record is written before the task is sent, so `GET /tasks/{id}` can tell a queued task from one
that was never submitted; the worker adds when and where each attempt started. Its result and progress
are Celery's own; its event log lists every state and progress change in order.
"""

import asyncio
import contextlib
import contextvars
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.engine.errors import (
    InFlightLimitError,
    ServiceUnavailableError,
    TaskFinishedError,
    redis_errors,
)
from taskgate_contracts import TaskView
from taskgate_contracts.storage import (
    LoggedEvent,
    ResultMeta,
    events_key,
    logged_event,
    record_key,
    result_key,
    revoked_meta,
    scripts,
    task_view,
    tombstone_key,
)

#: Stream entries as the client returns them: (id, fields), all bytes.
_Entries = list[tuple[bytes, dict[bytes, bytes]]]


class TaskRecords:
    def __init__(self, redis: Redis, address: str, retention: scripts.Retention) -> None:
        self._redis = redis
        self._address = address
        self._retention = retention
        self._expires = retention.expires
        self._create = redis.register_script(scripts.CREATE)
        self._cancel = redis.register_script(scripts.CANCEL)
        #: Records asked for in this turn of the event loop, and what each asker awaits.
        self._queued: list[tuple[scripts.NewTask, asyncio.Future[None]]] = []
        self._writing: set[asyncio.Task[None]] = set()

    @property
    def expires(self) -> int:
        """Seconds a task's record is kept after its last change (RESULT_EXPIRES)."""
        return self._expires

    async def create(self, task: scripts.NewTask) -> None:
        """Record that the task is queued, with its history entries and its tombstone.

        Raises `InFlightLimitError` when its key already has its limit of tasks in flight (nothing is
        written then), `ServiceUnavailableError` when Redis does not answer. Every submission pays for
        this, so the records asked for in the same turn of the event loop are written together, by one
        script call: a burst costs Redis and the client a few dozen commands, not thousands.
        """
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()
        if not self._queued:
            # In a context of its own: the write serves every request of the turn, so it belongs to none
            # of them (a trace would otherwise show it under whichever request came first).
            loop.call_soon(self._write_queued, context=contextvars.Context())
        self._queued.append((task, written))
        await written

    def _write_queued(self) -> None:
        batch, self._queued = self._queued, []
        writing = asyncio.ensure_future(self._write(batch))
        self._writing.add(writing)
        writing.add_done_callback(self._writing.discard)

    async def _write(self, batch: list[tuple[scripts.NewTask, "asyncio.Future[None]"]]) -> None:
        args = scripts.create_args(_now(), self._retention, [task for task, _ in batch])
        failure: BaseException | None = None
        refused: set[int] = set()
        try:
            refused = set(await self._create(keys=[], args=args))
        except (RedisError, OSError) as exc:
            failure = exc
        for position, (task, written) in enumerate(batch, start=1):
            if written.done():  # its request is gone
                continue
            # An exception of its own per request: a shared one would gather every request's traceback.
            if failure is not None:
                written.set_exception(ServiceUnavailableError("redis", self._address, failure))
            elif position in refused:
                written.set_exception(InFlightLimitError(task.key_name or "", task.in_flight or 0))
            else:
                written.set_result(None)

    async def discard(self, task_id: str) -> None:
        """Forget a task that was never sent (RabbitMQ refused it); best effort. Its history entries and
        in-flight entry go as the history and the next admission find no record behind them."""
        with contextlib.suppress(RedisError, OSError):  # if not, the records expire by themselves
            await self._redis.delete(record_key(task_id), events_key(task_id), tombstone_key(task_id))

    async def view(self, task_id: str) -> TaskView | None:
        """Everything known of the task, or None when it was never submitted or has expired."""
        return (await self.views([task_id]))[0]

    async def views(self, task_ids: Sequence[str]) -> list[TaskView | None]:
        """The views of `task_ids`, in one round trip; None for each that does not exist (any more)."""
        with redis_errors(self._address):
            async with self._redis.pipeline(transaction=False) as pipe:
                for task_id in task_ids:
                    pipe.hgetall(record_key(task_id))
                    pipe.get(result_key(task_id))
                    # When each expires (Redis 7): now + PTTL would move with the clock.
                    pipe.execute_command("PEXPIRETIME", record_key(task_id))
                    pipe.execute_command("PEXPIRETIME", result_key(task_id))
                replies = await pipe.execute()
        views = []
        for at, task_id in enumerate(task_ids):
            record, raw_meta, *lives = replies[4 * at : 4 * at + 4]
            fields = {key.decode(): value.decode() for key, value in record.items()}
            meta = None if raw_meta is None else ResultMeta.from_json(raw_meta)
            views.append(task_view(task_id, fields, meta, lives))
        return views

    async def tombstone(self, task_id: str) -> str | None:
        """The name of the key that submitted an expired task ('' without keys); None when there is no
        tombstone: the task never existed, or expired longer ago than TOMBSTONE_EXPIRES."""
        with redis_errors(self._address):
            owner = cast(bytes | None, await self._redis.get(tombstone_key(task_id)))
        return None if owner is None else owner.decode()

    async def events_after(self, task_id: str, cursor: str) -> list[LoggedEvent]:
        """The task's logged events after `cursor` (an event id; "0-0" for all), oldest first."""
        with redis_errors(self._address):
            entries = cast(_Entries, await self._redis.xrange(events_key(task_id), f"({cursor}", "+"))
        return [
            logged_event(entry_id.decode(), {key.decode(): value.decode() for key, value in fields.items()})
            for entry_id, fields in entries
        ]

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
        """Mark the task cancelled: the worker skips it, or stops at its next step and stores it revoked.

        Raises `TaskFinishedError` when it finished first: a finished task's outcome is never overwritten.
        """
        with redis_errors(self._address):
            finished = await self._cancel(
                keys=scripts.cancel_keys(task_id), args=[_now(), revoked_meta(task_id), self._expires]
            )
        if finished is not None:
            view = await self.view(task_id)
            if view is not None:
                raise TaskFinishedError(task_id, view)


def _now() -> str:
    return datetime.now(UTC).isoformat()
