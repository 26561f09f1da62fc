"""Readiness: can this api do its work — RabbitMQ, Redis and at least one worker reachable — and, per
task queue, how many messages wait and whether any worker consumes it.

Where workers are started on demand (KEDA scaling them from zero on queue depth), none is up while the
queues are empty, and an api that waited for one would never be sent the requests that bring one up:
there the worker check is reported but does not decide (READINESS_REQUIRES_WORKER=false).
"""

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import anyio.to_thread
from amqp.exceptions import NotFound
from celery import Celery
from kombu.connection import Connection
from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.engine.errors import ServiceUnavailableError
from taskgate_api.engine.waiting import ResultHub
from taskgate_contracts import CheckResult as Check
from taskgate_contracts import QueueState

#: Seconds a worker has to answer the readiness ping.
_WORKER_PING_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Readiness:
    producer: Celery
    redis: Redis
    hub: ResultHub
    broker_address: str
    redis_address: str
    #: Each task queue with the names of the task types whose messages go to it.
    queues: Mapping[str, Sequence[str]]
    #: Whether the api is ready only while a worker answers; else the worker check is only reported.
    requires_worker: bool = True

    async def check(self) -> tuple[dict[str, Check], list[QueueState]]:
        """The checks that decide readiness, and the state of every task queue."""
        rabbitmq = await anyio.to_thread.run_sync(self._check_rabbitmq)
        if rabbitmq.ok:
            workers = await anyio.to_thread.run_sync(self._check_workers)
            queues = await anyio.to_thread.run_sync(self.queue_states)
        else:
            workers, queues = rabbitmq, [self._unknown(queue, rabbitmq.detail) for queue in self.queues]
        if not (workers.ok or self.requires_worker):
            workers = Check(ok=False, detail=f"{workers.detail} (not required: workers start on demand)")
        checks = {"rabbitmq": rabbitmq, "redis": await self._check_redis(), "workers": workers}
        return checks, queues

    def ready(self, checks: Mapping[str, Check]) -> bool:
        """Whether the checks let the api take requests."""
        return all(check.ok for name, check in checks.items() if self.requires_worker or name != "workers")

    def _check_rabbitmq(self) -> Check:
        try:
            with self.producer.connection_for_write() as connection:
                connection.ensure_connection(max_retries=max(_each_node_once(connection), 1))
        except Exception as exc:
            return Check(
                ok=False, detail=ServiceUnavailableError("rabbitmq", self.broker_address, exc).detail
            )
        return Check(ok=True, detail=f"RabbitMQ at {self.broker_address}")

    def _check_workers(self) -> Check:
        try:
            replies = self.producer.control.ping(timeout=_WORKER_PING_TIMEOUT)
        except Exception as exc:
            return Check(ok=False, detail=f"could not ping workers: {exc}")
        names = sorted(name for reply in replies for name in reply)
        if not names:
            return Check(ok=False, detail="no worker answered a ping")
        return Check(ok=True, detail=f"{len(names)} worker(s): {', '.join(names)}")

    def queue_states(self) -> list[QueueState]:
        """Every task queue as RabbitMQ sees it (blocking: run it in a thread)."""
        try:
            connection = self.producer.connection_for_write()
            # One attempt per node: /metrics calls this on every scrape, and kombu waits 2 s before a
            # second round.
            connection.ensure_connection(max_retries=_each_node_once(connection))
        except Exception as exc:
            detail = ServiceUnavailableError("rabbitmq", self.broker_address, exc).detail
            return [self._unknown(queue, detail) for queue in self.queues]
        with connection:
            return [self._queue_state(connection, queue) for queue in self.queues]

    def _queue_state(self, connection: Connection, queue: str) -> QueueState:
        # A passive declaration on a channel of its own: RabbitMQ closes the channel of one that names a
        # missing queue.
        channel = connection.channel()
        try:
            _, messages, consumers = channel.queue_declare(queue=queue, passive=True)
        except NotFound:
            return self._unknown(queue, "the queue does not exist yet: no worker or api declared it")
        except Exception as exc:
            return self._unknown(queue, f"could not look at it: {exc}")
        finally:
            with contextlib.suppress(Exception):  # the broker has closed it already after NotFound
                channel.close()
        tasks = list(self.queues[queue])
        detail = f"{messages} waiting, {consumers} consumer(s)"
        if not consumers:
            detail = (
                f"{messages} waiting, and no worker consumes it: start one with --tasks {','.join(tasks)}"
            )
        return QueueState(queue=queue, tasks=tasks, messages=messages, consumers=consumers, detail=detail)

    def _unknown(self, queue: str, detail: str) -> QueueState:
        return QueueState(queue=queue, tasks=list(self.queues[queue]), detail=detail)

    async def _check_redis(self) -> Check:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            return Check(ok=False, detail=ServiceUnavailableError("redis", self.redis_address, exc).detail)
        if not self.hub.listening:  # without it no waiting request would learn of its result
            return Check(
                ok=False, detail=f"Redis at {self.redis_address} answers, but results are not subscribed yet"
            )
        return Check(ok=True, detail=f"Redis at {self.redis_address}, results subscribed")


def _each_node_once(connection: Connection) -> int:
    """The retries that try each node of RABBITMQ_HOSTS once: kombu moves to the next node at once, and
    waits only before going round the list again."""
    return max(len(connection.alt) - 1, 0)
