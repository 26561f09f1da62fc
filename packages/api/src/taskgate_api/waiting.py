"""Waiting for results, pushed from Redis.

The worker's result backend publishes every state change on the channel `celery-task-meta-<id>`. One
pattern subscription, on one connection, serves every request waiting in this process: a waiter is a
future in a dict keyed by task id, resolved by the listener the moment the result is published. No
polling, no thread and no Redis command per waiting request.

Whenever the subscription is (re)established, results that were published while nobody listened are
fetched once for every current waiter, so a Redis restart delays an answer but never loses it.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from taskgate_api.results import ResultMeta
from taskgate_contracts.storage import RESULT_CHANNEL_PATTERN, RESULT_KEY_PREFIX, result_key

log = logging.getLogger(__name__)

_RECONNECT_DELAY_MIN = 0.1
_RECONNECT_DELAY_MAX = 2.0


class ResultHub:
    def __init__(self, redis: Redis) -> None:
        # `redis` must have no socket read timeout: the subscription is quiet for as long as no task ends.
        self._redis = redis
        self._waiters: dict[str, set[asyncio.Future[ResultMeta]]] = {}
        self._listening = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @contextlib.contextmanager
    def expect(self, task_id: str) -> Iterator[asyncio.Future[ResultMeta]]:
        """Register interest in a task's outcome; enter this before the task is sent."""
        future: asyncio.Future[ResultMeta] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(task_id, set()).add(future)
        try:
            yield future
        finally:
            waiters = self._waiters.get(task_id)
            if waiters is not None:
                waiters.discard(future)
                if not waiters:
                    del self._waiters[task_id]

    async def run(self) -> None:
        """Keep the subscription alive until cancelled, reconnecting with backoff."""
        delay = _RECONNECT_DELAY_MIN
        while True:
            try:
                async with self._subscription() as pubsub:
                    delay = _RECONNECT_DELAY_MIN
                    await self._catch_up()
                    async for message in pubsub.listen():
                        self._deliver(message["channel"], message["data"])
            except (RedisError, OSError) as exc:
                log.warning("result subscription lost (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_DELAY_MAX)

    @asynccontextmanager
    async def _subscription(self) -> AsyncIterator[PubSub]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(RESULT_CHANNEL_PATTERN)
            self._listening.set()
            yield pubsub
        finally:
            self._listening.clear()
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    def _deliver(self, channel: bytes, data: bytes) -> None:
        task_id = channel[len(RESULT_KEY_PREFIX) :].decode()
        if task_id not in self._waiters:  # most messages are progress or other processes' tasks
            return
        meta = ResultMeta.from_json(data)
        if meta.finished:
            self._resolve(task_id, meta)

    def _resolve(self, task_id: str, meta: ResultMeta) -> None:
        for future in self._waiters.get(task_id, ()):
            if not future.done():
                future.set_result(meta)

    async def _catch_up(self) -> None:
        task_ids = list(self._waiters)
        if not task_ids:
            return
        stored = await self._redis.mget([result_key(task_id) for task_id in task_ids])
        for task_id, raw in zip(task_ids, stored, strict=True):
            if raw is not None:
                meta = ResultMeta.from_json(raw)
                if meta.finished:
                    self._resolve(task_id, meta)
