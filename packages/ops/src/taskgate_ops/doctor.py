"""`taskgate-ops doctor`: is every part of the stack reachable and answering, and what to do if not.

Besides the services, it reports each task queue the registry names: what waits on it, who consumes it.
A queue missing from the broker fails the run (the api's messages for its types have nowhere to go). A
queue nobody consumes is a warning only: a deployment may start a type's workers on demand, or leave a
batch to wait for them, and jobs on it wait rather than get lost; the Workers check still fails when
no worker at all is online.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from celery import Celery
from kombu.connection import Connection
from redis import Redis
from redis.connection import parse_url
from redis.sentinel import Sentinel

from taskgate_contracts import Registry, TaskSpec
from taskgate_ops.config import OpsSettings
from taskgate_ops.management import ManagementApi, ManagementError, segment

_TIMEOUT = 3.0
#: Seconds workers get to answer the broadcast ping.
_PING_TIMEOUT = 2.0


class ProbeError(Exception):
    """A check's finding; the message is what was seen."""


class Status(StrEnum):
    OK = "ok"
    #: Reported, with what to do, but the stack still counts as healthy.
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Result:
    name: str
    status: Status
    detail: str
    #: What to do about it; empty when all is well.
    remedy: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    probe: Callable[[OpsSettings], str]
    remedy: str
    #: Optional parts are reported but do not fail the run.
    required: bool = True

    def run(self, settings: OpsSettings) -> Result:
        try:
            return Result(self.name, Status.OK, self.probe(settings))
        except Exception as exc:
            # A diagnostic reports every failure as a finding, never as a traceback.
            status = Status.FAIL if self.required else Status.WARN
            return Result(self.name, status, str(exc) or type(exc).__name__, self.remedy)


def probe_amqp(settings: OpsSettings) -> str:
    """Every node in turn: the stack works while one answers, and the nodes that do not are named."""
    reached, failures = [], []
    for node, url in zip(settings.broker_nodes, settings.broker_urls, strict=True):
        connection = Connection(url, connect_timeout=_TIMEOUT)
        try:
            connection.connect()
        except Exception as exc:
            # Any failure to connect is the finding, whatever raised it.
            failures.append(f"{node}: {exc}")
        else:
            reached.append(str(node))
        finally:
            connection.release()
    vhost = f"vhost {settings.rabbitmq_vhost!r}"
    if not reached:
        raise ProbeError(f"{'; '.join(failures)} ({vhost})")
    found = f"connected to {', '.join(reached)}, {vhost}"
    return f"{found}; unreachable: {'; '.join(failures)}" if failures else found


def probe_management(settings: OpsSettings) -> str:
    with ManagementApi.from_settings(settings) as api:
        overview = api.get("/overview")
        answered = api.url
    return f"RabbitMQ {overview['rabbitmq_version']} at {answered}"


def probe_redis(settings: OpsSettings) -> str:
    url = settings.redis_url.get_secret_value()
    # Any: redis-py 8.2 types every keyword of Sentinel, which a dict of one value type cannot match.
    timeouts: dict[str, Any] = {"socket_connect_timeout": _TIMEOUT, "socket_timeout": _TIMEOUT}
    if not settings.redis_sentinels:
        with Redis.from_url(url, **timeouts) as client:
            client.ping()
        return "PONG"
    password = settings.redis_sentinel_password
    master = {key: value for key, value in parse_url(url).items() if key not in ("host", "port")}
    sentinel = Sentinel(
        settings.redis_sentinel_nodes,
        sentinel_kwargs={"password": password and password.get_secret_value(), **timeouts},
        **master,
        **timeouts,
    )
    name = settings.redis_sentinel_master
    try:
        host, port = sentinel.discover_master(name)
        with sentinel.master_for(name) as client:
            client.ping()
    finally:
        for node in sentinel.sentinels:
            node.close()
    return f"PONG from master {name!r} at {host}:{port}, named by {settings.redis_sentinels}"


def probe_workers(settings: OpsSettings) -> str:
    app = Celery(broker=settings.broker_url)
    # One attempt: the AMQP check already says whether the broker is there, so no retry loop here.
    app.conf.broker_connection_max_retries = 1
    app.conf.broker_connection_timeout = _TIMEOUT
    try:
        replies = app.control.ping(timeout=_PING_TIMEOUT)
    finally:
        app.close()
    names = sorted(name for reply in replies for name in reply)
    if not names:
        raise ProbeError(f"no worker answered a ping within {_PING_TIMEOUT:.0f} s")
    return f"{len(names)} online: {', '.join(names)}"


def _http_probe(path: str, expected: str) -> Callable[[str], str]:
    def probe(base_url: str) -> str:
        url = base_url.rstrip("/") + path
        try:
            response = httpx.get(url, timeout=_TIMEOUT)
        except httpx.HTTPError as exc:
            raise ProbeError(f"{url}: {exc or type(exc).__name__}") from None
        if response.status_code != httpx.codes.OK or expected not in response.text:
            raise ProbeError(f"{url} answered {response.status_code}: {response.text[:120]}")
        return f"{url} answered {response.status_code}"

    return probe


_api_health = _http_probe("/healthz", '"ok"')
_flower_health = _http_probe("/healthcheck", "OK")

CHECKS = (
    Check(
        "RabbitMQ (AMQP)",
        probe_amqp,
        "start RabbitMQ; check RABBITMQ_HOST, PORT_AMQP, RABBITMQ_DEFAULT_USER/PASS and RABBITMQ_VHOST "
        "(`taskgate-ops rabbitmq bootstrap` creates the vhost)",
    ),
    Check(
        "RabbitMQ management",
        probe_management,
        "enable it (`rabbitmq-plugins enable rabbitmq_management`); check PORT_WEB and the credentials",
    ),
    Check(
        "Redis",
        probe_redis,
        "start Redis; check REDIS_URL (host, port, password, database), or with Sentinel REDIS_SENTINELS, "
        "REDIS_SENTINEL_MASTER and REDIS_SENTINEL_PASSWORD",
    ),
    Check("Workers", probe_workers, "start one: `taskgate-worker` (or `docker compose up worker`)"),
    Check(
        "API",
        lambda settings: _api_health(settings.taskgate_url),
        "start it: `taskgate-api`; set TASKGATE_URL if it runs elsewhere",
    ),
    Check(
        "Flower",
        lambda settings: _flower_health(settings.taskgate_flower_url),
        "start it: `taskgate-ops flower`; set TASKGATE_FLOWER_URL if it runs elsewhere",
        required=False,
    ),
)


def queue_row(queue: str) -> str:
    return f"Queue {queue}"


def queue_result(queue: str, specs: Sequence[TaskSpec[Any, Any]], found: Mapping[str, Any] | None) -> Result:
    """The row of one task queue, from what `GET /api/queues/<vhost>/<queue>` answered (None: 404)."""
    types = [spec.name for spec in specs]
    if found is None:
        return Result(
            queue_row(queue),
            Status.FAIL,
            f"missing from the broker; task types: {', '.join(types)}",
            "create it with its limits and dead-lettering: `taskgate-ops rabbitmq bootstrap`",
        )
    # A queue the broker has just created has no statistics yet; until it has, its counts read as 0.
    ready, unacknowledged, consumers = (
        int(found.get(key, 0)) for key in ("messages_ready", "messages_unacknowledged", "consumers")
    )
    detail = f"task types: {', '.join(types)}; messages: {ready} ready, {unacknowledged} unacknowledged"
    if consumers:
        return Result(queue_row(queue), Status.OK, f"{detail}; consumers: {consumers}")
    return Result(
        queue_row(queue),
        Status.WARN,
        f"no consumer; {detail}",
        f"start a worker for it: `taskgate-worker --queues {queue}` or `taskgate-worker --tasks "
        f"{','.join(types)}` (nothing to do if its workers run on demand)",
    )


def queue_results(settings: OpsSettings, registry: Registry) -> list[Result]:
    """One row per task queue of the registry, from the management API."""
    queues = registry.queues()
    vhost = segment(settings.rabbitmq_vhost)
    try:
        with ManagementApi.from_settings(settings) as api:
            found = {queue: api.get(f"/queues/{vhost}/{segment(queue)}") for queue in queues}
    except ManagementError as exc:
        # The management row names the same failure; each queue row says it could not be looked at.
        return [Result(queue_row(queue), Status.FAIL, f"not checked: {exc}") for queue in queues]
    return [queue_result(queue, specs, found[queue]) for queue, specs in queues.items()]


def diagnose(settings: OpsSettings, registry: Registry) -> list[Result]:
    return [*(check.run(settings) for check in CHECKS), *queue_results(settings, registry)]


def healthy(results: list[Result]) -> bool:
    return all(result.status is not Status.FAIL for result in results)
