"""The api's two Redis clients — commands, and the result subscription — on the server REDIS_URL names, or
on the master Redis Sentinel names (REDIS_SENTINELS), wherever a failover moves it.

Through Sentinel, every new connection asks the sentinels where the master is. An old master that is
still up after a failover (a `SENTINEL FAILOVER`, a partition) goes on accepting writes, which its
demotion seconds later discards, and redis-py notices the demotion only then; so the api also listens
to the sentinels' failover announcements and drops every connection the moment one comes, and the next
command and the result subscription reconnect to the new master.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import RedisError

from taskgate_api.config import ApiSettings
from taskgate_contracts.connections import SENTINEL_SWITCH_CHANNEL, switched_master

log = logging.getLogger(__name__)

#: Redis connections one api process keeps for commands (its result subscription has one more).
COMMAND_CONNECTIONS = 32
#: Seconds between checks that the quiet subscription connection is still alive.
_SUBSCRIPTION_HEALTH_CHECK = 15
#: Seconds before the announcements are listened for again when no sentinel answered.
_SENTINELS_RETRY = 1.0


class _SentinelBlockingConnectionPool(SentinelConnectionPool, BlockingConnectionPool):
    """Connections to Sentinel's current master, bounded: a burst waits for a free one, as on a plain URL."""


@dataclass(frozen=True, slots=True)
class RedisClients:
    commands: Redis
    #: No read timeout: the subscription is quiet for as long as no task ends.
    subscriber: Redis
    sentinel: Sentinel | None
    #: The master's name in Sentinel (unused without sentinels).
    master: str

    async def follow_failovers(self) -> None:
        """Until cancelled, drop every connection when the sentinels announce a failover of the master;
        nothing to do without sentinels. One sentinel's announcements suffice: each announces its own."""
        if self.sentinel is None:
            return
        while True:
            for node in self.sentinel.sentinels:
                try:
                    await self._listen(node)
                except (RedisError, OSError) as exc:
                    log.warning("cannot hear the sentinels' failovers (%s); trying the next sentinel", exc)
            await asyncio.sleep(_SENTINELS_RETRY)

    async def _listen(self, node: Redis) -> None:
        # Its own connection, without the sentinel clients' read timeout: announcements are rare.
        kwargs = node.connection_pool.connection_kwargs
        announcements = Redis(
            host=kwargs["host"],
            port=kwargs["port"],
            password=kwargs.get("password"),
            socket_connect_timeout=kwargs.get("socket_connect_timeout"),
            socket_keepalive=True,
            health_check_interval=_SUBSCRIPTION_HEALTH_CHECK,
        )
        async with announcements, announcements.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(SENTINEL_SWITCH_CHANNEL)
            async for message in pubsub.listen():
                new_master = switched_master(message["data"], self.master)
                if new_master is not None:
                    log.warning("Redis master %r moved to %s:%d; reconnecting", self.master, *new_master)
                    await self.commands.connection_pool.disconnect()
                    await self.subscriber.connection_pool.disconnect()

    async def aclose(self) -> None:
        await self.commands.aclose()
        await self.subscriber.aclose()
        if self.sentinel is not None:
            # Each sentinel's own client: Sentinel.aclose() came only in redis 8, and the api allows 5.
            for sentinel in self.sentinel.sentinels:
                await sentinel.aclose()


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
    name = settings.redis_sentinel_master
    if not settings.redis_sentinels:
        pool = BlockingConnectionPool.from_url(url, **commands)
        return RedisClients(Redis(connection_pool=pool), Redis.from_url(url, **subscriber), None, name)
    # The master's password and database are REDIS_URL's; where it is, the sentinels say.
    master: dict[str, Any] = {
        key: value for key, value in parse_url(url).items() if key not in ("host", "port")
    }
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
    return RedisClients(
        sentinel.master_for(name, connection_pool_class=_SentinelBlockingConnectionPool, **commands),
        sentinel.master_for(name, **subscriber),
        sentinel,
        name,
    )
