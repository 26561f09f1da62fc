"""Fixtures of the fault-injection tests: a stack of real processes on brokers the test may break.

Each test gets a Redis server of its own (so it can read every key as its own and restart it), a vhost
on the machine's RabbitMQ with the topology `taskgate-ops rabbitmq bootstrap` applies (dead-letter queue,
length limit), and starts the workers and the api it needs. The scenario that restarts RabbitMQ gets a
RabbitMQ node of its own instead. Every ledger is printed at the end of the run.
"""

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from redis import Redis

from taskgate_contracts import Registry
from taskgate_contracts.builtin import PROCESS
from taskgate_ops.bootstrap import bootstrap
from taskgate_ops.management import ManagementApi
from taskgate_ops.topology import build_topology
from testkit.infrastructure import (
    HOST,
    MANAGEMENT_URL,
    RABBITMQ_PASSWORD,
    RABBITMQ_USER,
    temporary_vhost,
)
from testkit.processes import Service, answers, running, settings_env, start_api, wait_until
from testkit.servers import OwnRabbitMQ, OwnRedis, OwnSentinels
from tests.chaos.ledger import Ledger, markdown

LEDGERS = pytest.StashKey[list[Ledger]]()
#: The faults are scored on the process type's queue: the stacks here are shaped for, and host, it alone.
CHAOS_TYPES = Registry.of([PROCESS])
#: The vhost on the test's own RabbitMQ node.
OWN_VHOST = "taskgate"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    ledgers = config.stash.get(LEDGERS, [])
    if ledgers:
        terminalreporter.section("chaos ledger")
        terminalreporter.write_line(markdown(ledgers))


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    """This scenario's ledger, printed with the others at the end of the run."""
    scenario = request.node.name.removeprefix("test_")
    kept = Ledger(scenario)
    request.config.stash.setdefault(LEDGERS, []).append(kept)
    return kept


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    with OwnRedis(folder) as server:
        yield server


@pytest.fixture
def redis_client(own_redis: OwnRedis) -> Iterator[Redis]:
    client = Redis.from_url(own_redis.url, socket_timeout=10, retry_on_timeout=True)
    yield client
    client.close()


@pytest.fixture
def own_sentinels(tmp_path: Path) -> Iterator[OwnSentinels]:
    """A Redis master, a replica and three sentinels of the test's own."""
    group = OwnSentinels(tmp_path / "sentinels")
    try:
        group.start()
        yield group
    finally:
        group.stop()


@pytest.fixture
def vhost(services_up: None) -> Iterator[str]:
    """A vhost on the machine's RabbitMQ, shaped as ops bootstraps it; deleted with all it holds."""
    with temporary_vhost() as name, ManagementApi(MANAGEMENT_URL, RABBITMQ_USER, RABBITMQ_PASSWORD) as api:
        bootstrap(api, build_topology(name, CHAOS_TYPES))
        yield name


@pytest.fixture
def own_rabbitmq(tmp_path: Path, services_up: None) -> Iterator[OwnRabbitMQ]:
    """A RabbitMQ node of the test's own, shaped as ops bootstraps it, in vhost `taskgate`."""
    folder = tmp_path / "rabbitmq"
    folder.mkdir()
    node = OwnRabbitMQ(folder)
    try:
        node.start()
        with ManagementApi(node.management_url, RABBITMQ_USER, RABBITMQ_PASSWORD) as api:
            bootstrap(api, build_topology(OWN_VHOST, CHAOS_TYPES))
        yield node
    finally:
        node.remove()


@dataclass
class Stack:
    """Starts the services of one scenario with shared settings; all are stopped at the end of the test."""

    config: pytest.Config
    folder: Path
    env: dict[str, str]
    services: ExitStack

    def worker(
        self, name: str, concurrency: int, within: Sequence[str] = (), **settings: str | float
    ) -> Service:
        """A worker with its own node name (`name-…`) and these settings on top of the stack's, started
        (through `within`, if given) and ready to take tasks."""
        # The faults are scored on the process type's queue; its worker hosts nothing else.
        args = ["-m", "taskgate_worker", "--tasks", "process", "--concurrency", str(concurrency)]
        args += ["--log-level", "info"]
        args += ["--hostname", f"{name}-{uuid4().hex[:6]}@{HOST}"]
        worker = self.services.enter_context(
            running(self.config, Service.start(name, args, self._env(settings), self.folder, within=within))
        )
        wait_until(f"{name} to be ready", lambda: " ready." in worker.log_tail(), [worker])
        return worker

    def api(self, name: str = "api", **settings: str | float) -> Service:
        """An api with these settings on top of the stack's, started and serving."""
        api = self.services.enter_context(
            running(self.config, start_api(name, self._env(settings), self.folder))
        )
        wait_until(f"{name} to serve", answers(f"{api.url}/healthz", 200), [api])
        return api

    def _env(self, settings: dict[str, str | float]) -> dict[str, str]:
        return {**self.env, **{key.upper(): str(value) for key, value in settings.items()}}


def stack_of(request: pytest.FixtureRequest, folder: Path, env: dict[str, str]) -> Iterator[Stack]:
    """The services of one test on the brokers `env` names."""
    with ExitStack() as services:
        yield Stack(request.config, folder, env, services)


@pytest.fixture
def stack(request: pytest.FixtureRequest, tmp_path: Path, vhost: str, own_redis: OwnRedis) -> Iterator[Stack]:
    """Services on the machine's RabbitMQ (the test's vhost) and the test's own Redis."""
    env = settings_env(vhost, redis_url=own_redis.url, result_expires=600)
    yield from stack_of(request, tmp_path, env)


@pytest.fixture
def own_broker_stack(
    request: pytest.FixtureRequest, tmp_path: Path, own_rabbitmq: OwnRabbitMQ, own_redis: OwnRedis
) -> Iterator[Stack]:
    """Services on the test's own RabbitMQ node and Redis."""
    env = settings_env(
        OWN_VHOST,
        port_amqp=own_rabbitmq.amqp_port,
        port_web=own_rabbitmq.management_port,
        redis_url=own_redis.url,
        result_expires=600,
    )
    yield from stack_of(request, tmp_path, env)


@pytest.fixture
def sentinel_stack(
    request: pytest.FixtureRequest, tmp_path: Path, vhost: str, own_sentinels: OwnSentinels
) -> Iterator[Stack]:
    """Services on the machine's RabbitMQ (the test's vhost) and the master the test's sentinels name."""
    env = settings_env(vhost, result_expires=600, **own_sentinels.settings)
    yield from stack_of(request, tmp_path, env)
