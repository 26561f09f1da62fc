"""The api's two Redis clients — commands, and the result subscription — on the server REDIS_URL names, or
on the master Redis Sentinel names (REDIS_SENTINELS), wherever a failover moves it.

Through Sentinel, every new connection asks the sentinels where the master is; a connection to a master
that was demoted is closed on its first refused write (redis-py's SentinelManagedConnection), and the
sentinels close the demoted one's clients, the subscription's too, so every reconnect lands on the new
master.
"""

from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from taskgate_api.config import ApiSettings

#: Redis connections one api process keeps for commands (its result subscription has one more).
COMMAND_CONNECTIONS = 32
#: Seconds between checks that the quiet subscription connection is still alive.
_SUBSCRIPTION_HEALTH_CHECK = 15


class _SentinelBlockingConnectionPool(SentinelConnectionPool, BlockingConnectionPool):
    """Connections to Sentinel's current master, bounded: a burst waits for a free one, as on a plain URL."""


@dataclass(frozen=True, slots=True)
class RedisClients:
    commands: Redis
    #: No read timeout: the subscription is quiet for as long as no task ends.
    subscriber: Redis
    sentinel: Sentinel | None

    async def aclose(self) -> None:
        await self.commands.aclose()
        await self.subscriber.aclose()
        if self.sentinel is not None:
            await self.sentinel.aclose()


def connect(settings: ApiSettings) -> RedisClients:
    """The clients `settings` describe; nothing is connected until they are first used."""
    url = settings.redis_url.get_secret_value()
    # Waiting for a free command connection is not bounded (timeout=None): a busy api is not an
    # unreachable Redis; the socket timeouts are what notice that. The subscription has no read
    # timeout; a periodic health check notices a dead connection instead.
    commands: dict[str, Any] = {
        "max_connections": COMMAND_CONNECTIONS,
        "timeout": None,
        "socket_timeout": settings.redis_timeout,
        "socket_connect_timeout": settings.redis_timeout,
    }
    subscriber: dict[str, Any] = {
        "health_check_interval": _SUBSCRIPTION_HEALTH_CHECK,
        "socket_keepalive": True,
        "socket_connect_timeout": settings.redis_timeout,
    }
    if not settings.redis_sentinels:
        pool = BlockingConnectionPool.from_url(url, **commands)
        return RedisClients(Redis(connection_pool=pool), Redis.from_url(url, **subscriber), None)
    # The master's password and database are REDIS_URL's; where it is, the sentinels say.
    master = {key: value for key, value in parse_url(url).items() if key not in ("host", "port")}
    password = settings.redis_sentinel_password
    sentinel = Sentinel(
        settings.redis_sentinel_nodes,
        sentinel_kwargs={
            "password": None if password is None else password.get_secret_value(),
            "socket_timeout": settings.redis_timeout,
            "socket_connect_timeout": settings.redis_timeout,
        },
        **master,
    )
    name = settings.redis_sentinel_master
    return RedisClients(
        sentinel.master_for(name, connection_pool_class=_SentinelBlockingConnectionPool, **commands),
        sentinel.master_for(name, **subscriber),
        sentinel,
    )
