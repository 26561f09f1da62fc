"""Where the worker's results, progress and notes go: Celery's Redis result backend on the server REDIS_URL
names, or, with REDIS_SENTINELS, its Sentinel backend on the master the sentinels name.

Celery's Sentinel backend asks the sentinels for the master whenever it opens a connection, and a write
that reaches a demoted master fails as a connection error (redis-py's SentinelManagedConnection), which the
backend's retry policy retries — on a fresh connection, so on the new master. The journal writes through
the same client, so its notes follow the master too.
"""

from urllib.parse import urlsplit

from taskgate_worker.config import WorkerSettings

#: Seconds the worker waits for Redis to accept a connection, and for a reply; Celery's defaults are
#: forever and two minutes.
_CONNECT_TIMEOUT = 5.0
_REPLY_TIMEOUT = 10.0


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
    sentinel_kwargs: dict[str, object] = {
        "socket_connect_timeout": _CONNECT_TIMEOUT,
        "socket_timeout": _REPLY_TIMEOUT,
    }
    if settings.redis_sentinel_password is not None:
        sentinel_kwargs["password"] = settings.redis_sentinel_password.get_secret_value()
    return {
        "result_backend": nodes,
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
