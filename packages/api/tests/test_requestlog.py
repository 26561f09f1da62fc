"""Every request gets an id, echoed back, and one log line once answered; keys never reach the line."""

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from taskgate_api.apikeys import parse_keys
from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings

KEY = "k-secret-1"


@pytest.fixture
def client(unreachable_settings: ApiSettings) -> Iterator[TestClient]:
    settings = unreachable_settings.model_copy(update={"api_keys": parse_keys(KEY)})
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "taskgate_api.requests"]


def test_a_request_without_an_id_gets_one(client: TestClient) -> None:
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_clients_request_id_is_honoured(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "order-42/retry-1"}).headers["X-Request-ID"] == (
        "order-42/retry-1"
    )


@pytest.mark.parametrize("unusable", ["", "two words", "x" * 129, "tab\tinside"])
def test_an_unusable_request_id_is_replaced(client: TestClient, unusable: str) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": unusable}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_one_line_per_request_with_what_an_operator_searches_for(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="taskgate_api.requests")
    task_id = "6f1c0000-0000-0000-0000-000000000000"
    client.get(f"/tasks/{task_id}", headers={"X-Request-ID": "r-1", "Authorization": f"Bearer {KEY}"})

    (line,) = request_lines(caplog)
    assert line.getMessage() == f"GET /tasks/{task_id} 503"
    fields = line.__dict__
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", f"/tasks/{task_id}", 503)
    assert (fields["request_id"], fields["task_id"]) == ("r-1", task_id)
    assert fields["duration_ms"] >= 0
    assert "trace_id" not in fields  # tracing is off


def test_a_refused_request_is_logged_and_no_key_ever_is(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-2"
    assert client.get("/readyz", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    client.get("/healthz", headers={"Authorization": f"Bearer {KEY}"})

    assert [line.__dict__["status"] for line in request_lines(caplog)] == [401, 200]
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__}"
        assert KEY not in text
        assert wrong not in text


def test_without_otel_variables_nothing_traces_a_request(client: TestClient) -> None:
    app = client.app
    assert app.state.tracing is None  # type: ignore[attr-defined]
    names = {middleware.cls.__name__ for middleware in app.user_middleware}  # type: ignore[attr-defined]
    assert "OpenTelemetryMiddleware" not in names
    assert "LogRequests" in names
