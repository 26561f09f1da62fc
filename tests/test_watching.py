"""Watching a stack the way production does, with secrets of its own: a real Prometheus scrapes the live api,
Flower and RabbitMQ's prometheus plugin, loads ops's alert rules and answers every query of ops's
dashboard; and the JSON log lines of every service name the tasks and never a secret.

The stack runs on a RabbitMQ node and a Redis server of the test's own (testkit/servers.py): the
shared node's plugins are not the test's to enable, and its Redis has no password to keep secret. Each
secret below is set where production sets it — RabbitMQ's application user, Redis's `requirepass`, the
api's keys, Flower's basic auth — and the test sends a request with a wrong key too.
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from taskgate_ops.monitoring import ALERT_RULES, dashboard_queries
from testkit.infrastructure import HOST
from testkit.processes import Service, answers, free_port, running, start_api, start_worker, wait_until
from testkit.servers import OwnRabbitMQ, OwnRedis

RABBITMQ_USER, RABBITMQ_SECRET = "taskgate", "rabbit-Secret-4a7c19"
REDIS_SECRET = "redis-Secret-92f0de"
API_KEY = "api-Key-5b31e8c2"
WRONG_KEY = "wrong-Key-c04d77aa"
FLOWER_USER, FLOWER_SECRET = "watcher", "flower-Secret-7e2a51"
SECRETS = (RABBITMQ_SECRET, REDIS_SECRET, API_KEY, WRONG_KEY, FLOWER_SECRET)
AUTH = {"Authorization": f"Bearer {API_KEY}"}
#: The worker's time limit: a job asking for more fails.
TIME_LIMIT = 1
SCRAPE_SECONDS = 1


@dataclass
class Stack:
    api: Service
    worker: Service
    flower: Service
    prometheus_url: str
    task_ids: list[str]

    @property
    def services(self) -> list[Service]:
        return [self.api, self.worker, self.flower]


def _environment(rabbitmq: OwnRabbitMQ, redis: OwnRedis) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "ENVIRONMENT": "development",
        "LOG_FORMAT": "json",
        "RABBITMQ_HOST": HOST,
        "PORT_AMQP": str(rabbitmq.amqp_port),
        "PORT_WEB": str(rabbitmq.management_port),
        "RABBITMQ_DEFAULT_USER": RABBITMQ_USER,
        "RABBITMQ_DEFAULT_PASS": RABBITMQ_SECRET,
        "RABBITMQ_VHOST": "taskgate",
        "REDIS_URL": redis.url,
        "RESULT_EXPIRES": "600",
        "TASK_TIMEOUT": "10",
        "TASK_TIME_LIMIT": str(TIME_LIMIT),
        "API_KEYS": API_KEY,
        "FLOWER_BASIC_AUTH": f"{FLOWER_USER}:{FLOWER_SECRET}",
    }


def _application_user(rabbitmq: OwnRabbitMQ) -> None:
    """The user the services connect as, with its secret: what compose's rabbitmq-user job makes."""
    with httpx.Client(base_url=f"{rabbitmq.management_url}/api", auth=("guest", "guest"), timeout=10) as api:
        api.put(f"/users/{RABBITMQ_USER}", json={"password": RABBITMQ_SECRET, "tags": "administrator"})
        api.put("/vhosts/taskgate").raise_for_status()
        permissions = {"configure": ".*", "write": ".*", "read": ".*"}
        api.put(f"/permissions/taskgate/{RABBITMQ_USER}", json=permissions).raise_for_status()


def _prometheus(
    workdir: Path, api: Service, flower: Service, rabbitmq: OwnRabbitMQ
) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(
            "prometheus is missing: apt-get install prometheus (nox and .ci/run install it)", pytrace=False
        )
    (workdir / "api-key").write_text(API_KEY)

    def job(name: str, url: str, path: str, **extra: Any) -> dict[str, Any]:
        return {"job_name": name, "metrics_path": path, "static_configs": [{"targets": [url]}], **extra}

    config = {
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "evaluation_interval": f"{SCRAPE_SECONDS}s"},
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": [
            job(
                "api",
                api.url.removeprefix("http://"),
                "/metrics",
                authorization={"credentials_file": str(workdir / "api-key")},
            ),
            job("flower", flower.url.removeprefix("http://"), "/metrics"),
            job("rabbitmq", f"{HOST}:{rabbitmq.prometheus_port}", "/metrics/per-object"),
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    return subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address={HOST}:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    ), port


def _traffic(api: Service) -> list[str]:
    """A job of each ending: completed, failed, cancelled; and a request with a wrong key."""
    with httpx.Client(base_url=api.url, headers=AUTH, timeout=30) as client:
        ids = [client.post("/process", json={"delay": 0}).json()["task_id"] for _ in range(3)]
        failed = client.post("/process", json={"delay": TIME_LIMIT + 1})
        assert failed.status_code == httpx.codes.INTERNAL_SERVER_ERROR, failed.text
        cancelled = client.post("/tasks", json={"delay": 5}).json()["task_id"]
        assert client.delete(f"/tasks/{cancelled}").status_code == httpx.codes.ACCEPTED
        refused = client.get("/readyz", headers={"Authorization": f"Bearer {WRONG_KEY}"})
        assert refused.status_code == httpx.codes.UNAUTHORIZED
        return [*ids, failed.json()["task_id"], cancelled]


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("watching")
    rabbitmq = OwnRabbitMQ(workdir / "rabbitmq", prometheus=True)
    redis = OwnRedis(workdir / "redis", password=REDIS_SECRET)
    (workdir / "rabbitmq").mkdir()
    (workdir / "redis").mkdir()
    rabbitmq.start()
    try:
        redis.start()
        _application_user(rabbitmq)
        env = _environment(rabbitmq, redis)
        bootstrap = subprocess.run(
            [sys.executable, "-m", "taskgate_ops", "rabbitmq", "bootstrap"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
        flower_port = free_port()
        flower_args = ["-m", "taskgate_ops", "flower", "--port", str(flower_port), "--address", HOST]
        flower_env = {**env, "FLOWER_DB": str(workdir / "flower.db")}
        with (
            running(request.config, start_worker(env, workdir)) as worker,
            running(request.config, start_api("api", env, workdir)) as api,
            running(
                request.config,
                Service.start("flower", flower_args, flower_env, workdir, f"http://{HOST}:{flower_port}"),
            ) as flower,
        ):
            wait_until("the api to be ready", lambda: _ready(api), [api, worker])
            wait_until("Flower to answer", answers(f"{flower.url}/healthcheck", 200), [flower])
            task_ids = _traffic(api)
            prometheus, port = _prometheus(workdir, api, flower, rabbitmq)
            try:
                yield Stack(api, worker, flower, f"http://{HOST}:{port}", task_ids)
            finally:
                prometheus.terminate()
                prometheus.wait(timeout=30)
    finally:
        redis.stop()
        rabbitmq.remove()


def _ready(api: Service) -> bool:
    try:
        return httpx.get(f"{api.url}/readyz", headers=AUTH, timeout=5).status_code == httpx.codes.OK
    except httpx.HTTPError:
        return False


def _query(stack: Stack, path: str, **params: str) -> Any:
    try:
        response = httpx.get(f"{stack.prometheus_url}/api/v1/{path}", params=params, timeout=10)
    except httpx.HTTPError:
        return None
    return response.json()["data"] if response.status_code == httpx.codes.OK else None


def _eventually(what: str, probe: Any, within: float = 90.0) -> Any:
    deadline = time.monotonic() + within
    while not (found := probe()):
        assert time.monotonic() < deadline, f"{what}: not within {within:.0f} s"
        time.sleep(1)
    return found


def test_prometheus_scrapes_the_api_flower_and_rabbitmq(stack: Stack) -> None:
    def all_up() -> bool:
        targets = (_query(stack, "targets") or {}).get("activeTargets", [])
        return {target["labels"]["job"]: target["health"] for target in targets} == {
            "api": "up",
            "flower": "up",
            "rabbitmq": "up",
        }

    _eventually("every target up", all_up)


def test_prometheus_loads_the_alert_rules(stack: Stack) -> None:
    def loaded() -> list[dict[str, Any]]:
        groups = (_query(stack, "rules") or {}).get("groups", [])
        return [rule for group in groups for rule in group["rules"]]

    rules = _eventually("the rules loaded", loaded)
    assert len(rules) == 5
    assert {rule["health"] for rule in rules} == {"ok"}


@pytest.mark.parametrize("query", dashboard_queries())
def test_every_dashboard_query_returns_data(stack: Stack, query: str) -> None:
    _eventually(f"data for {query}", lambda: (_query(stack, "query", query=query) or {}).get("result"))


def _log_lines(service: Service) -> list[str]:
    return service.log_path.read_text(errors="replace").splitlines()


def test_no_log_line_holds_a_secret(stack: Stack) -> None:
    for service in stack.services:
        for line in _log_lines(service):
            for secret in SECRETS:
                assert secret not in line, f"{service.name} logged a secret: {line}"


def test_every_service_logs_json_and_names_the_tasks(stack: Stack) -> None:
    # Python's own warnings (Celery's about running as root) go to stderr before logging is set up.
    for service in stack.services:
        records = service.log_records()
        assert records, service.name
        assert all({"timestamp", "level", "message", "service"} <= set(record) for record in records)
    api_lines = stack.api.log_records()
    worker_lines = stack.worker.log_records()
    for task_id in stack.task_ids:
        assert any(line.get("task_id") == task_id and line.get("request_id") for line in api_lines), task_id
        assert any(line.get("task_id") == task_id for line in worker_lines), task_id
    refused = [line for line in api_lines if line.get("status") == httpx.codes.UNAUTHORIZED]
    assert refused
    assert "key" not in refused[0]
