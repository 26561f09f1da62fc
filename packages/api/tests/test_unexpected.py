"""An error nobody foresaw is answered in JSON like every other, and its traceback goes to the log only."""

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings
from taskgate_contracts import InternalErrorResponse

SECRET = "redis://:hunter2@10.0.0.7/0"


@pytest.fixture
def failing_client(unreachable_settings: ApiSettings) -> Iterator[TestClient]:
    app = create_app(unreachable_settings)

    async def fail() -> None:
        raise RuntimeError(f"cannot reach {SECRET}")

    app.add_api_route("/fails", fail, methods=["GET"], operation_id="fails")
    with TestClient(app) as client:
        yield client


def test_an_unexpected_error_is_a_json_500_naming_an_id_and_nothing_else(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="taskgate_api.http.errors"):
        response = failing_client.get("/fails")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    answer = InternalErrorResponse.model_validate_json(response.content)
    assert answer.detail == f"the api failed unexpectedly; its log names error {answer.error_id}"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    [record] = caplog.records
    assert record.getMessage() == f"error {answer.error_id}: GET /fails failed unexpectedly"
    assert record.exc_info is not None
    assert SECRET in str(record.exc_info[1])


def test_each_failure_has_an_id_of_its_own(failing_client: TestClient) -> None:
    ids = {failing_client.get("/fails").json()["error_id"] for _ in range(3)}
    assert len(ids) == 3


def test_it_is_counted_like_any_answer(failing_client: TestClient) -> None:
    failing_client.get("/fails")
    metrics = failing_client.get("/metrics").text
    assert 'taskgate_http_requests_total{code="500",method="GET",route="/fails"}' in metrics
