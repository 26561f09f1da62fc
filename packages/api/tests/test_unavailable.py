"""Without RabbitMQ or Redis the api answers 503 at once, naming the service — no hang, no traceback."""

import time

import pytest
from fastapi.testclient import TestClient

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/process", {"delay": 1}),
        ("/tasks", {"delay": 1}),
        ("/run/process", {"delay": 1}),
        ("/submit/thumbnail", {"image": "aGk=", "width": 1, "height": 1}),
    ],
)
def test_redis_down_is_503_naming_redis(
    offline_client: TestClient, path: str, body: dict[str, object]
) -> None:
    started = time.monotonic()
    response = offline_client.post(path, json=body)
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    answer = response.json()
    assert answer["status"] == "unavailable"
    assert answer["service"] == "redis"
    assert answer["detail"].startswith("Redis is unreachable at 127.0.0.1:1")
    assert "Traceback" not in response.text
    assert response.headers["Retry-After"] == "5"


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
    body = response.json()
    assert body["status"] == "unavailable"
    checks = body["checks"]
    assert set(checks) == {"rabbitmq", "redis", "workers"}
    assert not checks["rabbitmq"]["ok"]
    assert "RabbitMQ is unreachable at 127.0.0.1:1" in checks["rabbitmq"]["detail"]
    assert not checks["redis"]["ok"]
    # Every task queue is listed with its types, its figures unknown and the reason why.
    assert [(queue["queue"], queue["tasks"]) for queue in body["queues"]] == [
        ("taskgate", ["process"]),
        ("taskgate.thumbnail", ["thumbnail"]),
        ("taskgate.webhook", ["webhook"]),
    ]
    for queue in body["queues"]:
        assert (queue["messages"], queue["consumers"]) == (None, None)
        assert "RabbitMQ is unreachable at 127.0.0.1:1" in queue["detail"]


def test_liveness_does_not_depend_on_services(offline_client: TestClient) -> None:
    response = offline_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
