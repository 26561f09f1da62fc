"""Worker processes on a real RabbitMQ, on a vhost of their own: side by side, and retrying."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.error import URLError

import pytest
import redis
from celery import Celery, states
from celery.result import AsyncResult
from celery.utils.nodenames import gethostname

from taskgate_contracts import Registry, TaskSpec, TransientError
from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.storage import RecordField, events_key, record_key, result_key
from taskgate_worker.config import WorkerSettings
from taskgate_worker.factory import create_app
from taskgate_worker.hosting import plan
from taskgate_worker.tasks.process import process

from .rabbitmq import MANAGEMENT_URL, WorkerProcess, queue_info, throwaway_vhost, wait_for_nodes
from .testing_types import FLAKY, flaky

WAIT = 15
Send = Callable[..., AsyncResult]


@pytest.fixture(scope="module")
def vhost() -> Iterator[str]:
    with ExitStack() as stack:
        try:
            name = stack.enter_context(throwaway_vhost())
        except URLError as exc:
            pytest.fail(
                f"these tests need RabbitMQ's management API at {MANAGEMENT_URL}: {exc}", pytrace=False
            )
        yield name


@pytest.fixture(scope="module")
def worker_env(vhost: str, settings: WorkerSettings) -> dict[str, str]:
    """The environment of a worker process on the vhost; the rest is the defaults (127.0.0.1, guest)."""
    return {
        "RABBITMQ_VHOST": vhost,
        "REDIS_URL": settings.redis_url.get_secret_value(),
        "RESULT_EXPIRES": "300",
    }


@pytest.fixture(scope="module")
def client(vhost: str, settings: WorkerSettings) -> Celery:
    """Sends tasks to the vhost and pings its workers."""
    on_vhost = WorkerSettings(_env_file=None, rabbitmq_vhost=vhost, redis_url=settings.redis_url)
    registry = Registry.of([PROCESS, FLAKY])
    hosting = plan(
        on_vhost, registry=registry, handlers={PROCESS.name: process, FLAKY.name: flaky}, environ={}
    )
    return create_app(on_vhost, hosting)


@pytest.fixture
def send_over(client: Celery, sent: list[str]) -> Send:
    def send_over(spec: TaskSpec[Any, Any], **kwargs: object) -> AsyncResult:
        sent.append(str(uuid.uuid4()))
        return client.send_task(spec.task_name, kwargs=kwargs, queue=spec.queue, task_id=sent[-1])

    return send_over


def test_two_workers_start_side_by_side_on_one_vhost(
    client: Celery, worker_env: dict[str, str], tmp_path: Path, send_over: Send
) -> None:
    workers: list[WorkerProcess] = []
    try:
        for _ in range(2):
            workers.append(
                WorkerProcess(["-m", "taskgate_worker", "--concurrency", "1"], worker_env, tmp_path)
            )
        names = wait_for_nodes(client, 2, workers)

        assert names == {f"taskgate-all-{worker.pid}@{gethostname()}" for worker in workers}
        assert send_over(PROCESS, delay=0).get(timeout=WAIT)["delay"] == 0
    finally:
        printed = [worker.stop() for worker in workers]
    assert [worker.process.returncode for worker in workers] == [0, 0], printed


@pytest.fixture(scope="module")
def flaky_worker(
    client: Celery, worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A worker process hosting FLAKY: a retry is published by the pool process that ran the attempt."""
    worker = WorkerProcess(["-m", "tests.serve_testing_types"], worker_env, tmp_path_factory.mktemp("flaky"))
    try:
        wait_for_nodes(client, 1, [worker])
        yield
    finally:
        worker.stop()


@pytest.mark.usefixtures("flaky_worker")
def test_a_transient_failure_is_retried_until_it_passes(send_over: Send, redis_client: redis.Redis) -> None:
    result = send_over(FLAKY, failures=2)

    assert result.get(timeout=WAIT) == {"attempt": 3}
    assert redis_client.hget(record_key(result.id), RecordField.ATTEMPT) == "3"


@pytest.mark.usefixtures("flaky_worker")
def test_a_transient_failure_fails_once_the_attempts_are_used_up(
    send_over: Send, redis_client: redis.Redis
) -> None:
    result = send_over(FLAKY, failures=5)

    with pytest.raises(TransientError, match=r"^attempt 3 failed$"):
        result.get(timeout=WAIT)
    assert result.state == states.FAILURE
    assert redis_client.hget(record_key(result.id), RecordField.ATTEMPT) == "3"


@pytest.mark.usefixtures("flaky_worker")
def test_any_other_failure_is_final_at_once(send_over: Send, redis_client: redis.Redis) -> None:
    result = send_over(FLAKY, failures=1, transient=False)

    with pytest.raises(RuntimeError, match=r"^attempt 1 broke$"):
        result.get(timeout=WAIT)
    assert redis_client.hget(record_key(result.id), RecordField.ATTEMPT) == "1"


def test_on_quorum_queues_a_retry_waits_out_its_countdown_in_the_broker(
    settings: WorkerSettings, tmp_path: Path, redis_client: redis.Redis
) -> None:
    with throwaway_vhost() as vhost:
        quorum = WorkerSettings(
            _env_file=None, rabbitmq_vhost=vhost, redis_url=settings.redis_url, rabbitmq_queue_type="quorum"
        )
        hosting = plan(quorum, registry=Registry.of([FLAKY]), handlers={FLAKY.name: flaky}, environ={})
        client = create_app(quorum, hosting)
        env = {
            "RABBITMQ_VHOST": vhost,
            "RABBITMQ_QUEUE_TYPE": "quorum",
            "REDIS_URL": settings.redis_url.get_secret_value(),
            "RESULT_EXPIRES": "300",
        }
        worker = WorkerProcess(["-m", "tests.serve_testing_types"], env, tmp_path)
        task_id = str(uuid.uuid4())
        try:
            wait_for_nodes(client, 1, [worker])
            result = client.send_task(
                FLAKY.task_name, kwargs={"failures": 1}, queue=FLAKY.queue, task_id=task_id
            )
            assert result.get(timeout=WAIT) == {"attempt": 2}
            queue = queue_info(vhost, FLAKY.queue)
        finally:
            printed = worker.stop()
            redis_client.delete(*(key(task_id) for key in (record_key, result_key, events_key)))
    assert queue["type"] == "quorum"
    # Celery found the quorum queue, so it asked for no global QoS (RabbitMQ refuses it there), and
    # sent the retry through the broker's delayed delivery, not back to be held by the worker.
    assert "Global QoS is disabled" in printed
    assert "direct exchange" not in printed, printed
    assert "could not set up delayed delivery" not in printed, printed
