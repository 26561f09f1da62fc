"""With RabbitMQ or Redis out of reach the api answers 503 naming the service, at once, never a 500."""

import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from taskgate_contracts import ReadinessResponse, ServiceUnavailableResponse
from testkit.infrastructure import HOST, REDIS_DB, TaskKeys, temporary_vhost
from testkit.processes import Service, answers, free_port, running, settings_env, start_api, wait_until

#: "At once": well under any TASK_TIMEOUT, and no hang on a dead address.
PROMPT = 5.0


def serve_api(
    request: pytest.FixtureRequest, name: str, env: dict[str, str], workdir: Path
) -> Iterator[Service]:
    with running(request.config, start_api(name, env, workdir)) as api:
        wait_until(f"{name} to serve /healthz", answers(f"{api.url}/healthz", 200), [api])
        yield api


@pytest.fixture(scope="module")
def api_without_rabbitmq(
    request: pytest.FixtureRequest, task_keys: TaskKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    with temporary_vhost() as vhost:
        env = settings_env(vhost, port_amqp=free_port())
        yield from serve_api(request, "api-without-rabbitmq", env, tmp_path_factory.mktemp("no-rabbitmq"))


@pytest.fixture(scope="module")
def api_without_redis(
    request: pytest.FixtureRequest, task_keys: TaskKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    with temporary_vhost() as vhost:
        env = settings_env(vhost, redis_url=f"redis://{HOST}:{free_port()}/{REDIS_DB}")
        yield from serve_api(request, "api-without-redis", env, tmp_path_factory.mktemp("no-redis"))


def post_job(api: Service) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(f"{api.url}/process", json={"delay": 1}, timeout=30.0)
    return response, time.monotonic() - started


def assert_names(response: httpx.Response, service: str) -> None:
    assert response.status_code == httpx.codes.SERVICE_UNAVAILABLE, response.text
    body = ServiceUnavailableResponse.model_validate_json(response.content)
    assert body.service == service
    assert body.detail


def test_job_is_refused_with_503_naming_rabbitmq(api_without_rabbitmq: Service) -> None:
    response, took = post_job(api_without_rabbitmq)

    assert_names(response, "rabbitmq")
    assert took < PROMPT


def test_readiness_names_rabbitmq(api_without_rabbitmq: Service) -> None:
    response = httpx.get(f"{api_without_rabbitmq.url}/readyz", timeout=30.0)

    assert response.status_code == httpx.codes.SERVICE_UNAVAILABLE, response.text
    readiness = ReadinessResponse.model_validate_json(response.content)
    assert readiness.status == "unavailable"
    assert not readiness.checks["rabbitmq"].ok


def test_job_is_refused_with_503_naming_redis(api_without_redis: Service) -> None:
    response, took = post_job(api_without_redis)

    assert_names(response, "redis")
    assert took < PROMPT


def test_task_lookup_is_refused_with_503_naming_redis(api_without_redis: Service) -> None:
    started = time.monotonic()
    response = httpx.get(f"{api_without_redis.url}/tasks/{uuid4()}", timeout=30.0)

    assert_names(response, "redis")
    assert time.monotonic() - started < PROMPT
