"""Monitoring on the live system: jobs sent through the api show up in Flower and in RabbitMQ management.

Flower runs as `taskgate-ops flower` does in production (basic auth, persistent history, broker API),
in front of the same worker and vhost as the other end-to-end tests.
"""

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.infrastructure import MANAGEMENT_URL, RABBITMQ_PASSWORD, RABBITMQ_USER, TaskKeys
from testkit.processes import Service, free_port, running, settings_env, wait_until

FLOWER_USER, FLOWER_PASSWORD = "watcher", "flower-test-password"
TASK_NAME = "taskgate.process"
#: Seconds Flower may take to show what the worker's events report.
EVENT_LAG = 20.0


@contextmanager
def flower_on(config: pytest.Config, vhost: str, worker: Service, workdir: Path) -> Iterator[Service]:
    """`taskgate-ops flower` keeping its history in `workdir`, once it follows the worker."""
    env = settings_env(
        vhost, flower_basic_auth=f"{FLOWER_USER}:{FLOWER_PASSWORD}", flower_db=str(workdir / "flower.db")
    )
    port = free_port()
    args = ["-m", "taskgate_ops", "flower", "--port", str(port), "--address", "127.0.0.1"]
    with running(config, Service.start("flower", args, env, workdir, f"http://127.0.0.1:{port}")) as service:
        # Flower follows the worker once its events arrive: the worker's heartbeat marks it online.
        wait_until("Flower to see the worker online", lambda: online_workers(service) > 0, [service, worker])
        yield service


@pytest.fixture(scope="module")
def flower(
    request: pytest.FixtureRequest, main_vhost: str, worker: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    with flower_on(request.config, main_vhost, worker, tmp_path_factory.mktemp("flower")) as service:
        yield service


def flower_get(flower: Service, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{flower.url}{path}", params=params, auth=(FLOWER_USER, FLOWER_PASSWORD), timeout=10.0)


def online_workers(flower: Service) -> int:
    try:
        metrics = httpx.get(f"{flower.url}/metrics", timeout=5.0).text
    except httpx.HTTPError:
        return 0
    return len(re.findall(r'^flower_worker_online\{worker="[^"]+"\} 1\.0$', metrics, re.MULTILINE))


def eventually(what: str, probe: Callable[[], Any], within: float = EVENT_LAG) -> Any:
    """Poll `probe` until it returns something truthy; fail with its last answer after `within` seconds."""
    deadline = time.monotonic() + within
    while not (found := probe()):
        assert time.monotonic() < deadline, f"{what}: not within {within:.0f} s"
        time.sleep(0.3)
    return found


def send_jobs(api: Service, keys: TaskKeys, delays: list[float]) -> list[str]:
    """Jobs sent through the api one after the other, each answered `completed`."""
    ids = []
    for delay in delays:
        response = httpx.post(f"{api.url}/process", json={"delay": delay}, timeout=30.0)
        assert response.status_code == httpx.codes.OK, response.text
        ids.append(response.json()["task_id"])
        keys.add(ids[-1])
    return ids


def succeeded_in(flower: Service, task_ids: list[str]) -> dict[str, Any] | None:
    """Flower's records of the tasks, once it lists every one of them as succeeded."""
    tasks: dict[str, Any] = flower_get(flower, "/api/tasks", taskname=TASK_NAME).json()
    done = {
        task_id: tasks[task_id] for task_id in task_ids if tasks.get(task_id, {}).get("state") == "SUCCESS"
    }
    return done if len(done) == len(task_ids) else None


@pytest.fixture(scope="module")
def task_ids(flower: Service, api: Service, task_keys: TaskKeys) -> list[str]:
    return send_jobs(api, task_keys, [0.2, 0.4, 0.6])


def test_flower_lists_each_task_with_state_received_runtime_and_worker(
    flower: Service, task_ids: list[str]
) -> None:
    listed = eventually("Flower to list the tasks as succeeded", lambda: succeeded_in(flower, task_ids))
    for task_id, task in listed.items():
        assert task["name"] == TASK_NAME, task_id
        assert task["received"] > 0
        assert task["runtime"] >= 0.2
        assert task["worker"].startswith("taskgate-test-")


def test_a_restarted_flower_keeps_its_task_history(
    request: pytest.FixtureRequest,
    main_vhost: str,
    worker: Service,
    api: Service,
    task_keys: TaskKeys,
    tmp_path: Path,
) -> None:
    with flower_on(request.config, main_vhost, worker, tmp_path) as first:
        task_ids = send_jobs(api, task_keys, [0.1])
        eventually("Flower to list the task as succeeded", lambda: succeeded_in(first, task_ids))
    # Stopped by SIGTERM, Flower wrote its state to FLOWER_DB; the new one has seen no event of the task.
    with flower_on(request.config, main_vhost, worker, tmp_path) as second:
        assert succeeded_in(second, task_ids) is not None


def test_flower_counts_the_tasks_in_its_prometheus_metrics(flower: Service, task_ids: list[str]) -> None:
    pattern = re.compile(
        r'^flower_events_total\{task="taskgate\.process",type="task-succeeded",worker="[^"]+"\} (\d+)\.0$',
        re.MULTILINE,
    )

    def succeeded() -> int:
        return sum(
            int(count) for count in pattern.findall(httpx.get(f"{flower.url}/metrics", timeout=5.0).text)
        )

    assert eventually("task-succeeded counted in /metrics", lambda: succeeded() >= len(task_ids))


def test_flower_asks_for_credentials(flower: Service) -> None:
    for path in ("/", "/tasks", "/api/tasks", "/broker"):
        assert httpx.get(f"{flower.url}{path}", timeout=5.0).status_code == httpx.codes.UNAUTHORIZED, path
        wrong = httpx.get(f"{flower.url}{path}", auth=(FLOWER_USER, "wrong"), timeout=5.0)
        assert wrong.status_code == httpx.codes.UNAUTHORIZED, path
    assert flower_get(flower, "/api/tasks").status_code == httpx.codes.OK


def test_flowers_broker_tab_shows_the_task_queue_from_the_management_api(flower: Service) -> None:
    page = flower_get(flower, "/broker")
    assert page.status_code == httpx.codes.OK
    assert ">taskgate<" in page.text


def test_the_management_api_shows_the_task_pidbox_and_event_queues(
    flower: Service, worker: Service, main_vhost: str, task_ids: list[str]
) -> None:
    response = httpx.get(
        f"{MANAGEMENT_URL}/api/queues/{main_vhost}", auth=(RABBITMQ_USER, RABBITMQ_PASSWORD), timeout=10.0
    )
    queues = {queue["name"]: queue for queue in response.json()}
    assert queues["taskgate"]["durable"] is True
    # A worker listens for remote control on its pidbox; Flower receives events on a celeryev queue.
    assert any(re.fullmatch(r"taskgate-test-\w+@127\.0\.0\.1\.celery\.pidbox", name) for name in queues), (
        queues
    )
    assert any(re.fullmatch(r"celeryev\.[0-9a-f-]{36}", name) for name in queues), queues


def flower_state(flower: Service, task_id: str) -> str | None:
    response = flower_get(flower, f"/api/task/info/{task_id}")
    return response.json().get("state") if response.status_code == httpx.codes.OK else None


def test_a_task_cancelled_through_the_api_is_revoked_in_flower_whether_it_was_queued_or_running(
    flower: Service, api: Service, task_keys: TaskKeys
) -> None:
    def submit(delay: float) -> str:
        response = httpx.post(f"{api.url}/tasks", json={"delay": delay}, timeout=10.0)
        assert response.status_code == httpx.codes.ACCEPTED, response.text
        task_id: str = response.json()["task_id"]
        task_keys.add(task_id)
        return task_id

    def status(task_id: str) -> str:
        return str(httpx.get(f"{api.url}/tasks/{task_id}", timeout=10.0).json()["status"])

    running = submit(6)
    eventually("the first task to run", lambda: status(running) == "running")
    queued = submit(1)  # behind the running one: the worker has one process
    assert status(queued) == "queued"
    for task_id in (queued, running):
        assert httpx.delete(f"{api.url}/tasks/{task_id}", timeout=10.0).status_code == httpx.codes.ACCEPTED

    eventually(
        "Flower to show both revoked",
        lambda: [flower_state(flower, task_id) for task_id in (running, queued)] == ["REVOKED", "REVOKED"],
    )
    listed = flower_get(flower, "/api/tasks", state="REVOKED").json()
    assert {running, queued} <= set(listed)
