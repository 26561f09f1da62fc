"""Fixtures of the scenario that runs against installed wheels (`release.trial`): a worker on a vhost of its
own that carries taskgate's whole RabbitMQ topology, dead-letter queue included, as the installed
`taskgate-ops rabbitmq bootstrap` applies it."""

import subprocess
import sys
from collections.abc import Iterator

import pytest

from testkit.infrastructure import TaskKeys, rabbitmq_problem, redis_problem, temporary_vhost
from testkit.processes import Service, running, settings_env, start_worker


@pytest.fixture(scope="session")
def topology_vhost(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # These sessions exist to run on real services: a missing one fails them, whether in CI or not.
    for problem in (rabbitmq_problem(), redis_problem()):
        if problem is not None:
            pytest.fail(problem, pytrace=False)
    with temporary_vhost() as vhost:
        subprocess.run(
            [sys.executable, "-m", "taskgate_ops", "rabbitmq", "bootstrap"],
            env=settings_env(vhost),
            cwd=tmp_path_factory.mktemp("ops"),
            check=True,
        )
        yield vhost


@pytest.fixture(scope="session")
def topology_worker(
    request: pytest.FixtureRequest, topology_vhost: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = settings_env(topology_vhost)
    with running(request.config, start_worker(env, tmp_path_factory.mktemp("worker"))) as service:
        yield service


@pytest.fixture
def task_ids() -> Iterator[TaskKeys]:
    """The tasks a test sends, whose Redis keys are deleted after it."""
    keys = TaskKeys()
    yield keys
    keys.delete_all()
