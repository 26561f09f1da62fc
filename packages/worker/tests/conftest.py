"""A worker on Celery's in-memory broker that writes to a real Redis database of its own.

It hosts the built-in task types and the tests' own (`testing_types`), handed to the app factory
directly rather than found through entry points.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import redis
from celery import Celery
from celery.app.trace import reset_worker_optimizations, setup_worker_optimizations
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult

from taskgate_contracts import Handler, Registry, TaskSpec
from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.builtin.thumbnail import THUMBNAIL
from taskgate_contracts.storage import events_key, record_key, result_key
from taskgate_worker.config import WorkerSettings
from taskgate_worker.factory import create_app
from taskgate_worker.hosting import plan
from taskgate_worker.tasks.process import process
from taskgate_worker.tasks.thumbnail import make_thumbnail

from .testing_types import FLAKY, SLEEPY, WRONG_RESULT, flaky, sleep, wrong_result

#: A database no other taskgate test uses; only the keys these tests create are deleted.
REDIS_URL = os.environ.get("TASKGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
#: Below the longest delay the tests ask for, so the time limit can be seen firing.
SOFT_TIME_LIMIT = 1.0
#: The tests' TASK_TIME_LIMITS: one type's own limit, shortened.
TIME_LIMITS = {SLEEPY.name: 2.0}
#: The deployment's settings of the hosted task types, as the environment would give them.
ENVIRON = {"MAX_DELAY": "100", "THUMBNAIL_MAX_PIXELS": "1000000"}
WORKER_HOSTNAME = "test@taskgate"

SPECS: tuple[TaskSpec[Any, Any], ...] = (PROCESS, THUMBNAIL, FLAKY, WRONG_RESULT, SLEEPY)
HANDLERS: dict[str, Handler] = {
    PROCESS.name: process,
    THUMBNAIL.name: make_thumbnail,
    FLAKY.name: flaky,
    WRONG_RESULT.name: wrong_result,
    SLEEPY.name: sleep,
}

Send = Callable[..., AsyncResult]


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
        _env_file=None,
        redis_url=REDIS_URL,
        task_time_limit=SOFT_TIME_LIMIT,
        task_time_limits=TIME_LIMITS,
        result_expires=300,
    )


@pytest.fixture(scope="session")
def app(settings: WorkerSettings, redis_client: redis.Redis) -> Celery:
    hosting = plan(settings, registry=Registry.of(SPECS), handlers=HANDLERS, environ=ENVIRON)
    app = create_app(settings, hosting)
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
def sent(redis_client: redis.Redis) -> Iterator[list[str]]:
    """Ids of the tasks a test sends; their Redis keys are deleted after it."""
    task_ids: list[str] = []
    yield task_ids
    keys = [key(task_id) for task_id in task_ids for key in (result_key, record_key, events_key)]
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def send_to(app: Celery, worker: str, sent: list[str]) -> Send:
    """Send a task of the given type with the given kwargs, as the api does."""

    def send_to(spec: TaskSpec[Any, Any], task_id: str | None = None, **kwargs: object) -> AsyncResult:
        task_id = task_id or str(uuid.uuid4())
        sent.append(task_id)
        return app.send_task(spec.task_name, kwargs=kwargs, queue=spec.queue, task_id=task_id)

    return send_to


@pytest.fixture
def send(send_to: Send) -> Send:
    """Send the process task with the given kwargs."""
    return partial(send_to, PROCESS)
