"""`taskgate-ops doctor`: is every part of the stack reachable and answering, and what to do if not."""

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from celery import Celery
from kombu.connection import Connection
from redis import Redis

from taskgate_ops.config import OpsSettings
from taskgate_ops.management import ManagementApi

_TIMEOUT = 3.0
#: Seconds workers get to answer the broadcast ping.
_PING_TIMEOUT = 2.0


class ProbeError(Exception):
    """A check's finding; the message is what was seen."""


@dataclass(frozen=True)
class Check:
    name: str
    probe: Callable[[OpsSettings], str]
    remedy: str
    #: Optional parts are reported but do not fail the run.
    required: bool = True


@dataclass(frozen=True)
class Result:
    check: Check
    ok: bool
    detail: str


def probe_amqp(settings: OpsSettings) -> str:
    connection = Connection(settings.broker_url, connect_timeout=_TIMEOUT)
    try:
        connection.connect()
    except Exception as exc:
        # Any failure to connect is the finding, whatever raised it.
        raise ProbeError(f"{settings.broker_address} (vhost {settings.rabbitmq_vhost!r}): {exc}") from None
    finally:
        connection.release()
    return f"connected to {settings.broker_address}, vhost {settings.rabbitmq_vhost!r}"


def probe_management(settings: OpsSettings) -> str:
    with ManagementApi.from_settings(settings) as api:
        overview = api.get("/overview")
    return f"RabbitMQ {overview['rabbitmq_version']} at {settings.management_url}"


def probe_redis(settings: OpsSettings) -> str:
    client = Redis.from_url(
        settings.redis_url.get_secret_value(), socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()
    return "PONG"


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
    Check("Redis", probe_redis, "start Redis; check REDIS_URL (host, port, password, database)"),
    Check("Workers", probe_workers, "start one: `taskgate-worker` (or `docker compose up worker`)"),
    Check(
        "API",
        lambda settings: _api_health(settings.taskgate_api_url),
        "start it: `taskgate-api`; set TASKGATE_API_URL if it runs elsewhere",
    ),
    Check(
        "Flower",
        lambda settings: _flower_health(settings.taskgate_flower_url),
        "start it: `taskgate-ops flower`; set TASKGATE_FLOWER_URL if it runs elsewhere",
        required=False,
    ),
)


def run_check(check: Check, settings: OpsSettings) -> Result:
    try:
        return Result(check, True, check.probe(settings))
    except Exception as exc:
        # A diagnostic reports every failure as a finding, never as a traceback.
        return Result(check, False, str(exc) or type(exc).__name__)


def diagnose(settings: OpsSettings) -> list[Result]:
    return [run_check(check, settings) for check in CHECKS]


def healthy(results: list[Result]) -> bool:
    return all(result.ok for result in results if result.check.required)
