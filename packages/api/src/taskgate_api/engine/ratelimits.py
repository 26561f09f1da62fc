"""Requests per second per API key, counted in Redis by the `limits` library, so every api process and
host draws on the same count.

The moving window is `limits`' exact strategy: at most `rate` requests of a key in any second, not
`rate` per calendar second (which would let twice as many through across a second's boundary). Its
entries live in Redis under `taskgate:rate/…`, one list per key name, at most `rate` long.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from taskgate_api.engine.errors import redis_errors


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    #: Whole seconds until the window has room again (0 or 1: the window is a second long).
    reset_after: int


class RateLimiter:
    def __init__(self, redis: Redis, address: str) -> None:
        self._address = address
        # The api's own connection pool: the limiter follows a Sentinel failover as every command does.
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            # Passed on to redis-py's client, though limits types its options as scalars.
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
            key_prefix="taskgate:rate",
        )
        self._strategy = MovingWindowRateLimiter(storage)

    async def hit(self, key_name: str, rate: int) -> RateDecision:
        """Count one request of `key_name`, allowed `rate` per second; whether it is within the limit.
        Raises ServiceUnavailableError when Redis does not answer."""
        item = RateLimitItemPerSecond(rate)
        with redis_errors(self._address):
            allowed = await self._strategy.hit(item, key_name)
            stats = await self._strategy.get_window_stats(item, key_name)
        # The window is one second: the oldest request in it leaves within a second.
        reset_after = min(1, max(0, math.ceil(stats.reset_time - time.time())))
        return RateDecision(allowed, rate, stats.remaining, reset_after)
