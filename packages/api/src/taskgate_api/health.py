"""Readiness: can this api do its work — RabbitMQ, Redis and at least one worker reachable?"""

from dataclasses import dataclass

import anyio.to_thread
from celery import Celery
from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.errors import ServiceUnavailableError
from taskgate_api.waiting import ResultHub
from taskgate_contracts import CheckResult as Check

#: Seconds a worker has to answer the readiness ping.
_WORKER_PING_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Readiness:
    producer: Celery
    redis: Redis
    hub: ResultHub
    broker_address: str
    redis_address: str

    async def check(self) -> dict[str, Check]:
        rabbitmq = await anyio.to_thread.run_sync(self._check_rabbitmq)
        workers = await anyio.to_thread.run_sync(self._check_workers) if rabbitmq.ok else rabbitmq
        return {"rabbitmq": rabbitmq, "redis": await self._check_redis(), "workers": workers}

    def _check_rabbitmq(self) -> Check:
        try:
            with self.producer.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1)
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
