"""Learning of task state changes, pushed from Redis.

The worker's result backend publishes every state change on the channel `celery-task-meta-<id>`. One
pattern subscription, on one connection, serves every request in this process that waits for or follows
a task: each registers a listener keyed by task id, called by the subscription the moment a change is
published. No polling, no thread and no Redis command per waiting request.

Whenever the subscription is (re)established, results that were published while nobody listened are
fetched once for every current listener, so a Redis restart delays an answer but never loses it.

A waiter's deadline is kept in a slot of a few milliseconds, and one timer per slot releases every
waiter due in it: a burst of thousands of waiters arriving together falls due together, and releasing
them costs one timer instead of a timer, a wait and their callbacks per request.
"""

import asyncio
import contextlib
import contextvars
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from taskgate_api.tracing import Tracing
from taskgate_contracts.storage import RESULT_CHANNEL_PATTERN, RESULT_KEY_PREFIX, ResultMeta, result_key

log = logging.getLogger(__name__)

_RECONNECT_DELAY_MIN = 0.1
_RECONNECT_DELAY_MAX = 2.0

Listener = Callable[[ResultMeta], None]

#: Seconds of deadlines one timer releases; a waiter is released at most this long after its deadline.
DEADLINE_SLOT = 0.005


class StoppedWaitingError(Exception):
    """The api is shutting down: waiters answer with what they have instead of waiting on."""


class DeadlinePassedError(Exception):
    """The waiter's deadline came before the task's outcome."""


class _Deadlines:
    """Waiters by the slot their deadline falls in; one timer per slot releases them all."""

    def __init__(self) -> None:
        self._slots: dict[int, set[asyncio.Future[ResultMeta]]] = {}

    def add(self, deadline: float, future: "asyncio.Future[ResultMeta]") -> int:
        """Fail `future` with `DeadlinePassedError` at `deadline` (a `time.monotonic()` value); its slot."""
        slot = math.ceil(deadline / DEADLINE_SLOT)
        due = self._slots.get(slot)
        if due is None:
            due = self._slots[slot] = set()
            delay = max(slot * DEADLINE_SLOT - time.monotonic(), 0)
            # In a context of its own: the timer serves every waiter of the slot, not the first one's request.
            asyncio.get_running_loop().call_later(delay, self._release, slot, context=contextvars.Context())
        due.add(future)
        return slot

    def discard(self, slot: int, future: "asyncio.Future[ResultMeta]") -> None:
        due = self._slots.get(slot)
        if due is not None:
            due.discard(future)

    def _release(self, slot: int) -> None:
        for future in self._slots.pop(slot, ()):
            if not future.done():
                # An exception of its own per waiter: a shared one would gather every waiter's traceback.
                future.set_exception(DeadlinePassedError())


class ResultHub:
    def __init__(self, redis: Redis, tracing: Tracing | None = None) -> None:
        # `redis` must have no socket read timeout: the subscription is quiet for as long as nothing changes.
        self._redis = redis
        self._tracing = tracing
        self._listeners: dict[str, set[Listener]] = {}
        self._expected: set[asyncio.Future[ResultMeta]] = set()
        self._deadlines = _Deadlines()
        self._listening = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    @property
    def waiting(self) -> int:
        """Tasks somebody in this process is waiting for or following."""
        return len(self._listeners)

    @contextlib.contextmanager
    def listen(self, task_id: str, listener: Listener) -> Iterator[None]:
        """Call `listener` with every state change of the task while inside; enter before sending it."""
        self._listeners.setdefault(task_id, set()).add(listener)
        try:
            yield
        finally:
            listeners = self._listeners.get(task_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[task_id]

    @contextlib.contextmanager
    def expect(self, task_id: str, deadline: float | None = None) -> Iterator[asyncio.Future[ResultMeta]]:
        """A future resolved with the task's final state; with a `deadline` (a `time.monotonic()` value),
        failed with `DeadlinePassedError` once it has passed."""
        future: asyncio.Future[ResultMeta] = asyncio.get_running_loop().create_future()
        tracing = self._tracing
        # The waiting request's context, so the delivery's span joins its trace; looked up only when traced.
        waiter = None if tracing is None else tracing.current()

        def on_change(meta: ResultMeta) -> None:
            if meta.finished and not future.done():
                if tracing is not None and waiter is not None:
                    tracing.delivered(waiter, task_id, meta)
                future.set_result(meta)

        self._expected.add(future)
        slot = None if deadline is None else self._deadlines.add(deadline, future)
        try:
            with self.listen(task_id, on_change):
                yield future
        finally:
            self._expected.discard(future)
            if slot is not None:
                self._deadlines.discard(slot, future)
            if future.done() and not future.cancelled():
                future.exception()  # a stop may come before the request awaits it: not an error to log

    def stop_waiting(self) -> None:
        """Release every waiter at once (they answer `pending`), as the api shuts down."""
        for future in self._expected:
            if not future.done():
                future.set_exception(StoppedWaitingError())

    @contextlib.contextmanager
    def follow(self, task_id: str) -> Iterator["asyncio.Queue[ResultMeta]"]:
        """A queue of every state change of the task, in the order they were published."""
        changes: asyncio.Queue[ResultMeta] = asyncio.Queue()
        with self.listen(task_id, changes.put_nowait):
            yield changes

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
        if task_id in self._listeners:  # most messages are other processes' tasks
            self._notify(task_id, ResultMeta.from_json(data))

    def _notify(self, task_id: str, meta: ResultMeta) -> None:
        for listener in tuple(self._listeners.get(task_id, ())):
            listener(meta)

    async def _catch_up(self) -> None:
        task_ids = list(self._listeners)
        if not task_ids:
            return
        stored = await self._redis.mget([result_key(task_id) for task_id in task_ids])
        for task_id, raw in zip(task_ids, stored, strict=True):
            if raw is not None:
                self._notify(task_id, ResultMeta.from_json(raw))
