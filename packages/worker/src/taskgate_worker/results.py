"""Where the worker's results, progress and notes go: Celery's Redis result backend on the server REDIS_URL
names, or, with REDIS_SENTINELS, its Sentinel backend on the master the sentinels name.

Celery's Sentinel backend asks the sentinels for the master whenever it opens a connection, and a write
that reaches a demoted master fails as a connection error (redis-py's SentinelManagedConnection), which the
backend's retry policy retries — on a fresh connection, so on the new master. But an old master that is
still up after a failover (a `SENTINEL FAILOVER`, a partition) goes on accepting writes until the
sentinels demote it, seconds later, and the demotion discards them: so each worker process also listens
to the sentinels' failover announcements and drops its connections the moment one comes. The journal
writes through the same client, so its notes follow the master too.
"""

import logging
import os
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from celery.backends.redis import SentinelBackend
from redis import Redis
from redis.exceptions import RedisError

from taskgate_contracts.connections import SENTINEL_SWITCH_CHANNEL, switched_master
from taskgate_worker.config import WorkerSettings

log = logging.getLogger(__name__)

#: Seconds the worker waits for Redis to accept a connection, and for a reply; Celery's defaults are
#: forever and two minutes.
_CONNECT_TIMEOUT = 5.0
_REPLY_TIMEOUT = 10.0
#: Seconds before the announcements are listened for again when no sentinel answered.
_SENTINELS_RETRY = 1.0
#: Seconds between checks that the quiet announcement connection is still alive.
_HEALTH_CHECK = 30


def result_backend(settings: WorkerSettings) -> dict[str, object]:
    """The Celery settings of the result backend, with timeouts and retries that ride out a Redis blip
    or a failover instead of losing a result or hanging."""
    return {**_location(settings), **_resilience()}


def _location(settings: WorkerSettings) -> dict[str, object]:
    url = settings.redis_url.get_secret_value()
    if not settings.redis_sentinels:
        return {"result_backend": url}
    # `sentinel://[:password@]host:port/db`, one per sentinel joined by `;`: the password and database are
    # the master's, taken from REDIS_URL, whose own host and port are not used.
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    userinfo = f"{credentials}@" if credentials else ""
    database = parts.path.lstrip("/") or "0"
    nodes = ";".join(
        f"sentinel://{userinfo}{host}:{port}/{database}" for host, port in settings.redis_sentinel_nodes
    )
    backend = f"{FailoverFollowingBackend.__module__}:{FailoverFollowingBackend.__name__}"
    sentinel_kwargs: dict[str, object] = {
        "socket_connect_timeout": _CONNECT_TIMEOUT,
        "socket_timeout": _REPLY_TIMEOUT,
    }
    if settings.redis_sentinel_password is not None:
        sentinel_kwargs["password"] = settings.redis_sentinel_password.get_secret_value()
    return {
        # Celery's `class+url` form: this backend, on these sentinels.
        "result_backend": f"{backend}+{nodes}",
        "result_backend_transport_options": {
            "master_name": settings.redis_sentinel_master,
            "sentinel_kwargs": sentinel_kwargs,
        },
    }


def _resilience() -> dict[str, object]:
    return {
        "redis_socket_connect_timeout": _CONNECT_TIMEOUT,
        "redis_socket_timeout": _REPLY_TIMEOUT,
        "redis_retry_on_timeout": True,
        "redis_socket_keepalive": True,
        # Finds a connection Redis dropped while idle before a result is written on it.
        "redis_backend_health_check_interval": 30,
        # Storing a result retries connection errors with backoff, a bounded number of times.
        "result_backend_always_retry": True,
        "result_backend_max_retries": 5,
    }


class FailoverFollowingBackend(SentinelBackend):  # type: ignore[misc]  # Celery is untyped
    """Celery's Sentinel backend, which drops its connections whenever the sentinels announce a failover of
    its master. Each process listens for itself, from its first write on: the pool's processes are forks,
    and a thread does not survive a fork."""

    _following_in: int | None = None

    def ensure(self, fun: Any, args: Any, **policy: Any) -> Any:
        # Every write goes through here: results, states and the journal's notes.
        if self._following_in != os.getpid():
            self._following_in = os.getpid()
            threading.Thread(target=self._follow, name="taskgate-failovers", daemon=True).start()
        return super().ensure(fun, args, **policy)

    def _follow(self) -> None:
        while True:
            for node in self.connparams["hosts"]:
                try:
                    self._listen(node["host"], node["port"])
                except (RedisError, OSError) as exc:
                    log.warning("cannot hear the sentinels' failovers (%s); trying the next sentinel", exc)
            time.sleep(_SENTINELS_RETRY)

    def _listen(self, host: str, port: int) -> None:
        master = self._transport_options["master_name"]
        password = self._transport_options.get("sentinel_kwargs", {}).get("password")
        announcements = Redis(
            host=host,
            port=port,
            password=password,
            socket_connect_timeout=_CONNECT_TIMEOUT,
            socket_keepalive=True,
            health_check_interval=_HEALTH_CHECK,
        )
        with announcements, announcements.pubsub(ignore_subscribe_messages=True) as pubsub:
            pubsub.subscribe(SENTINEL_SWITCH_CHANNEL)
            for message in pubsub.listen():
                new_master = switched_master(message["data"], master)
                if new_master is not None:
                    log.warning("Redis master %r moved to %s:%d; reconnecting", master, *new_master)
                    self.client.connection_pool.disconnect()
