"""A worker on Celery's in-memory broker that writes to a real Redis database of its own."""

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from celery import Celery
from celery.app.trace import reset_worker_optimizations, setup_worker_optimizations
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult

from taskgate_contracts import PROCESS
from taskgate_contracts.storage import events_key, record_key, result_key
from taskgate_worker.app import create_app
from taskgate_worker.config import WorkerSettings

#: A database no other taskgate test uses; only the keys these tests create are deleted.
REDIS_URL = os.environ.get("TASKGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
#: Below the longest delay the tests ask for, so the time limit can be seen firing.
SOFT_TIME_LIMIT = 1.0
WORKER_HOSTNAME = "test@taskgate"


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"the worker tests need Redis at {REDIS_URL}: {exc}", pytrace=False)
    yield client
    client.close()


@pytest.fixture(scope="session")
def settings() -> WorkerSettings:
    return WorkerSettings(
        _env_file=None, redis_url=REDIS_URL, task_time_limit=SOFT_TIME_LIMIT, result_expires=300
    )


@pytest.fixture(scope="session")
def app(settings: WorkerSettings, redis_client: redis.Redis) -> Celery:
    app = create_app(settings)
    app.conf.broker_url = "memory://"
    # The in-memory transport polls its queues, once a second unless told otherwise.
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "polling_interval": 0.01}
    return app


@pytest.fixture(scope="session")
def worker(app: Celery) -> Iterator[str]:
    """A running worker; its node name."""
    # `celery worker` tells the task tracer its node name; the embedded test worker does not.
    setup_worker_optimizations(app, WORKER_HOSTNAME)
    # prefork, as in production: time limits are enforced only by a pool of child processes.
    with start_worker(app, pool="prefork", concurrency=2, perform_ping_check=False, hostname=WORKER_HOSTNAME):
        yield WORKER_HOSTNAME
    reset_worker_optimizations(app)


@pytest.fixture
def send(app: Celery, worker: str, redis_client: redis.Redis) -> Iterator[Callable[..., AsyncResult]]:
    """Send the process task with the given kwargs, as the api does; the keys it leaves are deleted."""
    task_ids: list[str] = []

    def send(task_id: str | None = None, **kwargs: object) -> AsyncResult:
        task_id = task_id or str(uuid.uuid4())
        task_ids.append(task_id)
        return app.send_task(PROCESS.name, kwargs=kwargs, queue=PROCESS.queue, task_id=task_id)

    yield send
    for task_id in task_ids:
        redis_client.delete(result_key(task_id), record_key(task_id), events_key(task_id))
