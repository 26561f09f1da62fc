"""This machine's RabbitMQ and Redis as the benchmark uses them: a vhost of its own (made and deleted as
the end-to-end tests make theirs) and a Redis database reserved for it.

Redis database BENCH_REDIS_DB (default 13; the end-to-end tests use 12 and the worker's tests 14) is
reserved for the bench: it is emptied when a run starts and when it ends, so never point anything else
at it.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import psutil
from redis import Redis

from testkit.infrastructure import (
    AMQP_PORT,
    HOST,
    MANAGEMENT_URL,
    RABBITMQ_PASSWORD,
    RABBITMQ_USER,
    REDIS_PORT,
    rabbitmq_problem,
    redis_problem,
)

REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "13"))
REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/{REDIS_DB}"


def broker_url(vhost: str) -> str:
    return f"amqp://{RABBITMQ_USER}:{RABBITMQ_PASSWORD}@{HOST}:{AMQP_PORT}/{quote(vhost, safe='')}"


def unreachable() -> str | None:
    """Why RabbitMQ (with its management API) or Redis cannot serve the bench, or None."""
    return rabbitmq_problem() or redis_problem()


def purge_queue(vhost: str, queue: str) -> None:
    """Drop every ready message of `queue`: the long jobs a scenario queued must not outlive it."""
    with httpx.Client(auth=(RABBITMQ_USER, RABBITMQ_PASSWORD), timeout=30.0) as management:
        url = f"{MANAGEMENT_URL}/api/queues/{quote(vhost, safe='')}/{queue}/contents"
        management.delete(url).raise_for_status()


@contextmanager
def reserved_redis() -> Iterator[Redis]:
    """A client of the bench's Redis database, emptied before and after the run."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=5.0)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@dataclass(frozen=True, slots=True)
class Subscriptions:
    """Redis pub/sub subscriptions: those held by one process's connections, and the server's patterns."""

    process_channels: int
    process_patterns: int
    server_patterns: int


def subscriptions(redis: Redis, pid: int) -> Subscriptions:
    """Count what process `pid` and its children (the api's processes) subscribe to, by matching their
    sockets with Redis's client list."""
    parent = psutil.Process(pid)
    ports = {
        connection.laddr.port
        for process in [parent, *parent.children(recursive=True)]
        for connection in process.net_connections(kind="tcp")
        if connection.raddr and connection.raddr.port == REDIS_PORT
    }
    clients = [client for client in redis.client_list() if int(client["addr"].rsplit(":", 1)[1]) in ports]
    numpat: int = redis.pubsub_numpat()
    return Subscriptions(
        process_channels=sum(int(client["sub"]) for client in clients),
        process_patterns=sum(int(client["psub"]) for client in clients),
        server_patterns=numpat,
    )
