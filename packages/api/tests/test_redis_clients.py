"""The api's Redis clients: on REDIS_URL's server, or on the master the sentinels name (its failover is
exercised on real servers by tests/chaos/test_sentinel_failover.py)."""

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.sentinel import SentinelConnectionPool

from taskgate_api import redis_clients
from taskgate_api.config import ApiSettings


def settings(**values: object) -> ApiSettings:
    return ApiSettings(_env_file=None, redis_timeout=1.5, **values)  # type: ignore[arg-type]


async def test_without_sentinels_the_clients_use_the_url() -> None:
    clients = redis_clients.connect(settings(redis_url="redis://:hunter2@cache:6380/3"))
    try:
        assert clients.sentinel is None
        pool = clients.commands.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        assert not isinstance(pool, SentinelConnectionPool)
        assert pool.max_connections == redis_clients.COMMAND_CONNECTIONS
        assert pool.connection_kwargs | {"host": "cache", "port": 6380, "db": 3, "password": "hunter2"} == (
            pool.connection_kwargs
        )
    finally:
        await clients.aclose()


async def test_with_sentinels_both_clients_follow_the_named_master() -> None:
    clients = redis_clients.connect(
        settings(
            redis_url="redis://:master-secret@ignored:1/3",
            redis_sentinels="s1:26379,s2:26380",
            redis_sentinel_master="results",
            redis_sentinel_password="sentinel-secret",
        )
    )
    try:
        assert clients.sentinel is not None
        sentinels = [client.connection_pool.connection_kwargs for client in clients.sentinel.sentinels]
        assert [(kwargs["host"], kwargs["port"]) for kwargs in sentinels] == [("s1", 26379), ("s2", 26380)]
        assert {kwargs["password"] for kwargs in sentinels} == {"sentinel-secret"}
        for client in (clients.commands, clients.subscriber):
            pool = client.connection_pool
            assert isinstance(pool, SentinelConnectionPool)
            assert pool.service_name == "results"
            assert pool.is_master
            # The master's password and database are the URL's; its host and port are the sentinels' word.
            assert pool.connection_kwargs["password"] == "master-secret"
            assert pool.connection_kwargs["db"] == 3
            assert "ignored" not in pool.connection_kwargs.values()
        commands = clients.commands.connection_pool
        # A burst waits for one of a bounded number of connections, as on a plain URL.
        assert isinstance(commands, BlockingConnectionPool)
        assert commands.max_connections == redis_clients.COMMAND_CONNECTIONS
        assert commands.timeout is None
        assert commands.connection_kwargs["socket_timeout"] == 1.5
        # The subscription is quiet while no task ends: no read timeout, a health check instead.
        assert clients.subscriber.connection_pool.connection_kwargs.get("socket_timeout") is None
        assert clients.subscriber.connection_pool.connection_kwargs["health_check_interval"] > 0
    finally:
        await clients.aclose()
