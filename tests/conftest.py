"""Fixtures of the end-to-end tests: this machine's RabbitMQ and Redis, and the running services.

One worker serves two apis that differ only in TASK_TIMEOUT (the api's setting), so the seed's
examples that need a patient api and those that need an impatient one share a worker.
"""

import os
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import httpx
import pytest

from testkit.infrastructure import TaskKeys, rabbitmq_problem, redis_problem, temporary_vhost
from testkit.processes import (
    LIVE_SERVICES,
    Service,
    running,
    settings_env,
    start_api,
    start_worker,
    wait_ready,
)
from tests.client import connect
from tests.settings import IMPATIENT_TIMEOUT, MAX_DELAY, PATIENT_TIMEOUT, WORKER_TIME_LIMIT


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def services_up() -> None:
    """RabbitMQ and Redis answer; otherwise the tests skip, or fail under CI where they must run."""
    for problem in (rabbitmq_problem(), redis_problem()):
        if problem is not None:
            if _in_ci():
                pytest.fail(f"{problem} (CI=true: the end-to-end tests must run)", pytrace=False)
            pytest.skip(problem)


@pytest.fixture(scope="session")
def task_keys(services_up: None) -> Iterator[TaskKeys]:
    keys = TaskKeys()
    yield keys
    keys.delete_all()


@pytest.fixture(scope="session")
def main_vhost(task_keys: TaskKeys) -> Iterator[str]:
    with temporary_vhost() as vhost:
        yield vhost


@pytest.fixture(scope="session")
def worker(
    request: pytest.FixtureRequest, main_vhost: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = settings_env(main_vhost, task_timeout=WORKER_TIME_LIMIT, task_time_limit=WORKER_TIME_LIMIT)
    with running(request.config, start_worker(env, tmp_path_factory.mktemp("worker"))) as service:
        yield service


def _main_api(
    request: pytest.FixtureRequest, name: str, vhost: str, workdir: Path, worker: Service, timeout: int
) -> Iterator[Service]:
    env = settings_env(vhost, task_timeout=timeout, max_delay=MAX_DELAY)
    with running(request.config, start_api(name, env, workdir)) as service:
        wait_ready(service, worker)
        yield service


@pytest.fixture(scope="session")
def api(
    request: pytest.FixtureRequest, main_vhost: str, tmp_path_factory: pytest.TempPathFactory, worker: Service
) -> Iterator[Service]:
    """An api that waits PATIENT_TIMEOUT seconds, in front of the main worker."""
    yield from _main_api(request, "api", main_vhost, tmp_path_factory.mktemp("api"), worker, PATIENT_TIMEOUT)


@pytest.fixture(scope="session")
def impatient_api(
    request: pytest.FixtureRequest, main_vhost: str, tmp_path_factory: pytest.TempPathFactory, worker: Service
) -> Iterator[Service]:
    """An api that answers `pending` after IMPATIENT_TIMEOUT seconds, in front of the main worker."""
    workdir = tmp_path_factory.mktemp("impatient-api")
    yield from _main_api(request, "impatient-api", main_vhost, workdir, worker, IMPATIENT_TIMEOUT)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report carries the logs of every service running at the time."""
    report = yield
    if report.failed:
        for service in item.config.stash.get(LIVE_SERVICES, []):
            report.sections.append((f"{service.name} log", service.log_tail()))
    return report


@pytest.fixture
async def client(api: Service, task_keys: TaskKeys) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(api.url, task_keys) as http:
        yield http


@pytest.fixture
async def impatient_client(impatient_api: Service, task_keys: TaskKeys) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(impatient_api.url, task_keys) as http:
        yield http
