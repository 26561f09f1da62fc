"""Task records in Redis: what the api wrote when it queued a task, and everything known of it since.

A task's record (`taskgate:task:<id>`) is written before the task is sent, so `GET /tasks/{id}` can tell a
queued task from one that was never submitted; the worker adds when and where it started. Its result and
progress are Celery's own (`celery-task-meta-<id>`).
"""

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.errors import ServiceUnavailableError
from taskgate_api.results import ResultMeta
from taskgate_contracts import TaskState, TaskView
from taskgate_contracts.storage import RecordField, record_key, result_key

P = ParamSpec("P")
T = TypeVar("T")


class TaskRecords:
    def __init__(self, redis: Redis, address: str, expires: int) -> None:
        self._redis = redis
        self._address = address
        self._expires = expires

    async def _call(self, operation: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await operation(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise ServiceUnavailableError("redis", self._address, exc) from exc

    async def create(self, task_id: str) -> None:
        """Record that the task is queued; raises `ServiceUnavailableError` when Redis does not answer."""
        await self._call(self._create, task_id)

    async def _create(self, task_id: str) -> None:
        key = record_key(task_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, RecordField.QUEUED_AT, datetime.now(UTC).isoformat())
            pipe.expire(key, self._expires)
            await pipe.execute()

    async def discard(self, task_id: str) -> None:
        """Forget a task that was never sent (RabbitMQ refused it); best effort."""
        with contextlib.suppress(RedisError, OSError):  # if not, the record expires by itself
            await self._redis.delete(record_key(task_id))

    async def view(self, task_id: str) -> TaskView | None:
        """Everything known of the task, or None when it was never submitted or has expired."""
        return await self._call(self._view, task_id)

    async def _view(self, task_id: str) -> TaskView | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(record_key(task_id))
            pipe.get(result_key(task_id))
            record, raw_meta = await pipe.execute()
        fields = {key.decode(): value.decode() for key, value in record.items()}
        if raw_meta is None:
            if not fields:
                return None
            started = RecordField.STARTED_AT in fields
            state = TaskState.RUNNING if started else TaskState.QUEUED
            return TaskView(task_id=task_id, status=state, **_timestamps(fields))
        meta = ResultMeta.from_json(raw_meta)
        status = meta.task_state
        return TaskView(
            task_id=task_id,
            status=status,
            progress=meta.progress,
            result=meta.result_text if status is TaskState.COMPLETED else None,
            error=meta.error if status is TaskState.FAILED else None,
            finished_at=meta.date_done,
            **_timestamps(fields, worker=meta.worker),
        )


def _timestamps(fields: dict[str, str], worker: str | None = None) -> dict[str, object]:
    return {
        "queued_at": fields.get(RecordField.QUEUED_AT),
        "started_at": fields.get(RecordField.STARTED_AT),
        "worker": fields.get(RecordField.WORKER) or worker,
    }
