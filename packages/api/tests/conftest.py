"""What the api's tests share: an app whose RabbitMQ and Redis do not exist, an in-process Redis, task types
of the tests' own, and the api assembled on that Redis with a stand-in for RabbitMQ and the worker.

Test modules cannot import from here (neither pytest nor mypy sees the tests folder as a package), so
everything is handed out as fixtures typed with library types, as contracts' own tests do.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

import fakeredis
import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from taskgate_api.app import create_app, wire
from taskgate_api.config import ApiSettings
from taskgate_api.engine.sending import TaskSender, create_producer
from taskgate_api.engine.waiting import ResultHub
from taskgate_contracts import COMPLETED_MESSAGE, Registry, TaskSettings, TaskSpec, discover, settings_in
from taskgate_contracts.storage import result_key

#: Nothing listens on port 1 of the loopback: connecting fails at once with "connection refused".
CLOSED = "127.0.0.1"
MANAGEMENT = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")

AnySpec = TaskSpec[Any, Any]
#: What the worker makes of a task's arguments: Celery's stored state (`status` and `result`), or None to
#: leave the task queued.
Outcome = Callable[[dict[str, Any]], dict[str, Any] | None]
#: A task the stand-in received: its Celery name, its queue, its id and its arguments as sent.
Sent = tuple[str, str, str, dict[str, Any]]
Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


# --- Task types of the tests' own: one with settings of its own, one whose name is not an identifier. ---


class EchoSettings(TaskSettings):
    echo_max_length: int = Field(100, gt=0, description="The longest text echo takes (ECHO_MAX_LENGTH).")


class EchoArgs(BaseModel):
    """A text to say back."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "hello", "times": 2}]})

    text: str = Field(min_length=1)
    times: Annotated[int, Field(ge=1, le=10, strict=True)] = 1

    @field_validator("text")
    @classmethod
    def _not_too_long(cls, text: str, info: ValidationInfo) -> str:
        limit = settings_in(info, EchoSettings).echo_max_length
        if len(text) > limit:
            raise ValueError(f"at most {limit} characters (ECHO_MAX_LENGTH)")
        return text


class EchoResult(BaseModel):
    """The text, said back."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "hello hello"}]})

    text: str


class Week(BaseModel):
    year: int = Field(ge=2000)
    number: int = Field(ge=1, le=53)


class WeeklyReportArgs(BaseModel):
    """Which week to report on; a nested model, so the args schema has definitions of its own."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"week": {"year": 2026, "number": 48}}]}
    )

    week: Week


class WeeklyReportResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"pages": 3}]})

    pages: int


ECHO = TaskSpec(
    name="echo",
    args=EchoArgs,
    result=EchoResult,
    description="Say a text back, a number of times.",
    settings=EchoSettings,
)
WEEKLY_REPORT = TaskSpec(
    name="acme.weekly-report",
    args=WeeklyReportArgs,
    result=WeeklyReportResult,
    description="Write the report of a week.",
)


@pytest.fixture
def echo() -> AnySpec:
    return ECHO


@pytest.fixture
def weekly_report() -> AnySpec:
    return WEEKLY_REPORT


@pytest.fixture
def registry() -> Registry:
    """The installed task types (the built-in ones) and the tests' own."""
    return Registry.of([*discover(), ECHO, WEEKLY_REPORT])


# --- A clean environment, and an api whose services are unreachable. ---


@pytest.fixture(autouse=True)
def _no_deployment_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`create_app` reads the task types' settings from `.env` and the environment: a developer's own
    MAX_DELAY must not change what the tests see, so they run where there is no `.env` and without any
    task type's variables."""
    monkeypatch.chdir(tmp_path)
    for spec in [*discover(), ECHO, WEEKLY_REPORT]:
        for name in spec.settings.model_fields if spec.settings else ():
            monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def unreachable_settings() -> ApiSettings:
    """Settings whose RabbitMQ and Redis do not exist, for what the api must do without them."""
    return ApiSettings(
        rabbitmq_host=CLOSED,
        port_amqp=1,
        redis_url=f"redis://{CLOSED}:1/0",
        publish_timeout=0.5,
        _env_file=None,
    )


@pytest.fixture
def offline_client(unreachable_settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(create_app(unreachable_settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
async def redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    """An in-process Redis of the test's own."""
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()


# --- The api assembled on the in-process Redis, with a stand-in for RabbitMQ and the worker. ---


def _succeeded(result: dict[str, Any]) -> dict[str, Any]:
    return {"status": "SUCCESS", "result": result}


@pytest.fixture
def outcomes() -> dict[str, Outcome]:
    """What the stand-in worker does with each task type, by name; a test replaces entries to make a task
    fail or never finish. A type without an entry stays queued."""
    return {
        "process": lambda kwargs: _succeeded({"result": COMPLETED_MESSAGE, "delay": kwargs["delay"]}),
        "echo": lambda kwargs: _succeeded({"text": " ".join([kwargs["text"]] * kwargs["times"])}),
    }


@pytest.fixture
def sent() -> list[Sent]:
    """Every task the stand-in received, in order."""
    return []


class WorkerStandIn(TaskSender):
    """RabbitMQ and a worker in one: a task sent is "run" at once, its outcome stored and then published in
    Redis in the format of the worker's Celery result backend (with `result_extended`), so the api learns
    of it through its real result subscription. What the api puts on the wire is test_sending's business."""

    def __init__(
        self, redis: fakeredis.FakeAsyncRedis, outcomes: dict[str, Outcome], sent: list[Sent]
    ) -> None:
        # Not TaskSender's: it would open a connection to RabbitMQ on the first send.
        self._redis = redis
        self._outcomes = outcomes
        self._sent = sent

    async def send(self, spec: AnySpec, args: BaseModel, task_id: str) -> None:
        kwargs = args.model_dump(mode="json")
        self._sent.append((spec.task_name, spec.queue, task_id, kwargs))
        worker = self._outcomes.get(spec.name)
        outcome = None if worker is None else worker(kwargs)
        if outcome is None:
            return
        meta = {
            **outcome,
            "traceback": None,
            "children": [],
            "date_done": datetime.now(UTC).isoformat(),
            "task_id": task_id,
            "name": spec.task_name,
            "worker": "stand-in@tests",
        }
        await self._redis.set(result_key(task_id), json.dumps(meta))
        await self._redis.publish(result_key(task_id), json.dumps(meta))

    async def close(self) -> None:
        pass


@pytest.fixture
def app_settings() -> ApiSettings:
    """The assembled api's settings: a short TASK_TIMEOUT, so a task that never finishes answers pending
    quickly; RabbitMQ unreachable, which only readiness and /metrics look at; Redis unreachable too, so
    nothing but the in-process one can ever be written to."""
    return ApiSettings(
        rabbitmq_host=CLOSED,
        port_amqp=1,
        redis_url=f"redis://{CLOSED}:1/0",
        publish_timeout=0.5,
        task_timeout=0.3,
        _env_file=None,
    )


@pytest.fixture
def serve(
    redis: fakeredis.FakeAsyncRedis,
    registry: Registry,
    app_settings: ApiSettings,
    outcomes: dict[str, Outcome],
    sent: list[Sent],
) -> Serve:
    """`async with serve(settings=…, registry=…) as client:` an HTTP client of the api, in this event loop.

    The app is `create_app`'s, routes, middleware and error handlers included; only the services its
    lifespan would connect to real Redis and RabbitMQ are assembled here, the same way, on the
    in-process Redis and the stand-in worker. Readiness looks at the settings' RabbitMQ.
    """

    default_registry = registry

    @asynccontextmanager
    async def serving(
        settings: ApiSettings | None = None, registry: Registry | None = None
    ) -> AsyncIterator[httpx.AsyncClient]:
        settings = settings or app_settings
        app = create_app(settings, registry or default_registry)
        task_types = app.state.task_types
        hub = ResultHub(redis)
        producer = create_producer(settings, task_types.queues())
        sender = WorkerStandIn(redis, outcomes, sent)
        app.state.services = wire(settings, task_types, redis, hub, producer, sender)
        subscription = asyncio.create_task(hub.run())
        while not hub.listening:
            await asyncio.sleep(0.001)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://taskgate") as client:
                yield client
        finally:
            subscription.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscription
            producer.close()

    return serving


@pytest.fixture
async def client(serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    """The assembled api with the default test settings and every test task type."""
    async with serve() as client:
        yield client


# --- A RabbitMQ virtual host of the test's own. ---


@pytest.fixture
def vhost() -> Iterator[str]:
    """A virtual host on this machine's RabbitMQ, made through its management API and removed after, so the
    test meets no other test's queues. RabbitMQ is part of the api's test environment: without it these
    tests fail, naming what is missing."""
    name = f"taskgate-api-test-{uuid4().hex[:10]}"
    try:
        httpx.put(f"{MANAGEMENT}/vhosts/{name}", auth=AUTH, timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"RabbitMQ's management API is needed at {MANAGEMENT}: {exc}")
    permissions = {"configure": ".*", "write": ".*", "read": ".*"}
    try:
        httpx.put(
            f"{MANAGEMENT}/permissions/{name}/guest", json=permissions, auth=AUTH, timeout=10
        ).raise_for_status()
        yield name
    finally:
        httpx.delete(f"{MANAGEMENT}/vhosts/{name}", auth=AUTH, timeout=10)


@pytest.fixture
def management() -> Callable[[], httpx.AsyncClient]:
    """A client of RabbitMQ's management API."""
    return lambda: httpx.AsyncClient(base_url=MANAGEMENT, auth=AUTH, timeout=10)
