"""Without RabbitMQ or Redis the api answers 503 at once, naming the service — no hang, no traceback."""

import time

from fastapi.testclient import TestClient

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings


def test_redis_down_is_503_naming_redis(offline_client: TestClient) -> None:
    started = time.monotonic()
    response = offline_client.post("/process", json={"delay": 1})
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["service"] == "redis"
    assert body["detail"].startswith("Redis is unreachable at 127.0.0.1:1")
    assert "Traceback" not in response.text
    assert response.headers["Retry-After"].isdigit()


def test_task_status_with_redis_down_is_503(offline_client: TestClient) -> None:
    response = offline_client.get("/tasks/6f1c0000-0000-0000-0000-000000000000")
    assert response.status_code == 503
    assert response.json()["service"] == "redis"


def test_redis_password_never_appears_in_errors(unreachable_settings: ApiSettings) -> None:
    settings = unreachable_settings.model_copy(
        update={"redis_url": unreachable_settings.redis_url.__class__("redis://:hunter2@127.0.0.1:1/0")}
    )
    with TestClient(create_app(settings)) as client:
        response = client.post("/process", json={"delay": 0})
    assert response.status_code == 503
    assert "hunter2" not in response.text


def test_readiness_names_every_failing_part(offline_client: TestClient) -> None:
    response = offline_client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert set(checks) == {"rabbitmq", "redis", "workers"}
    assert not checks["rabbitmq"]["ok"]
    assert "RabbitMQ is unreachable at 127.0.0.1:1" in checks["rabbitmq"]["detail"]
    assert not checks["redis"]["ok"]


def test_liveness_does_not_depend_on_services(offline_client: TestClient) -> None:
    response = offline_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
