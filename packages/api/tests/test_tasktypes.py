"""Every task type's two operations: `POST /submit/<name>` queues a task and answers at once,
`POST /run/<name>` waits up to TASK_TIMEOUT for its outcome; the seed's `POST /process` and `POST /tasks`
are the process type's, answering in the seed's words. A name no type has is a 404 listing those there are.

The app is the real one on an in-process Redis; a stand-in plays RabbitMQ and the worker (conftest).
"""

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import fakeredis
import httpx
import pytest
from fastapi.testclient import TestClient

from taskgate_api.config import ApiSettings
from taskgate_contracts import (
    COMPLETED_MESSAGE,
    PENDING_MESSAGE,
    CompletedResponse,
    FailedResponse,
    PendingResponse,
    Registry,
    SubmittedResponse,
    TaskSpec,
    TaskView,
    UnknownTaskTypeResponse,
)
from taskgate_contracts.operations import completed_model

#: conftest's fixtures' types: the stand-in worker's outcome of a type, a task it received, and `serve`.
Outcome = Callable[[dict[str, Any]], dict[str, Any] | None]
Sent = tuple[str, str, str, dict[str, Any]]
Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def failing(exc_type: str, message: str) -> Outcome:
    return lambda _: {"status": "FAILURE", "result": {"exc_type": exc_type, "exc_message": [message]}}


async def view_of(client: httpx.AsyncClient, task_id: str) -> TaskView:
    response = await client.get(f"/tasks/{task_id}")
    assert response.status_code == 200, response.text
    return TaskView.model_validate(response.json())


@pytest.mark.parametrize("operation", ["submit", "run"])
def test_an_unknown_type_is_404_naming_the_known_ones(offline_client: TestClient, operation: str) -> None:
    # RabbitMQ and Redis are unreachable here: the 404 comes before anything would be sent.
    for body in ({"delay": 1}, "not even JSON"):
        response = offline_client.post(f"/{operation}/nope", json=body)
        assert response.status_code == 404
        answer = UnknownTaskTypeResponse.model_validate(response.json())
        assert answer.known == ["process", "thumbnail"]
        assert answer.detail == "unknown task type 'nope'; known: process, thumbnail"


async def test_an_unknown_type_sends_nothing(client: httpx.AsyncClient, sent: list[Sent]) -> None:
    response = await client.post("/run/echo.loud", json={"text": "hi"})
    assert response.status_code == 404
    assert response.json()["known"] == ["acme.weekly-report", "echo", "process", "thumbnail"]
    assert sent == []


async def test_a_deployment_serves_only_the_types_it_was_given(serve: Serve, registry: Registry) -> None:
    async with serve(registry=registry.subset(["echo"])) as client:
        assert (await client.post("/submit/thumbnail", json={})).json()["known"] == ["echo"]
        assert (await client.post("/process", json={"delay": 0})).status_code == 404


async def test_submit_queues_the_type_s_task_by_name_on_its_queue_and_answers_at_once(
    client: httpx.AsyncClient, sent: list[Sent], weekly_report: TaskSpec[Any, Any]
) -> None:
    response = await client.post("/submit/acme.weekly-report", json={"week": {"year": 2026, "number": 48}})
    assert response.status_code == 202, response.text
    submitted = SubmittedResponse.model_validate(response.json())
    assert submitted.links.self == f"/tasks/{submitted.task_id}"
    assert response.headers["Location"] == submitted.links.self
    assert sent == [
        (
            "taskgate.acme.weekly-report",
            "taskgate.acme.weekly-report",
            submitted.task_id,
            {"week": {"year": 2026, "number": 48}},
        )
    ]
    assert weekly_report.queue == "taskgate.acme.weekly-report"
    # The stand-in has no outcome for it: the task is recorded as queued, with its type.
    view = await view_of(client, submitted.task_id)
    assert (view.task, view.status) == ("acme.weekly-report", "queued")


async def test_run_answers_with_what_the_task_returned(
    client: httpx.AsyncClient, sent: list[Sent], echo: TaskSpec[Any, Any]
) -> None:
    started = time.monotonic()
    response = await client.post("/run/echo", json={"text": "hi", "times": 3})
    assert response.status_code == 200, response.text
    completed = completed_model(echo).model_validate(response.json())
    assert response.json()["result"] == {"text": "hi hi hi"}
    assert 0 <= completed.model_dump()["time"] <= time.monotonic() - started
    [(task_name, queue, task_id, kwargs)] = sent
    assert (task_name, queue, kwargs) == ("taskgate.echo", "taskgate.echo", {"text": "hi", "times": 3})
    assert response.json()["task_id"] == task_id
    view = await view_of(client, task_id)
    assert (view.task, view.status, view.result) == ("echo", "completed", {"text": "hi hi hi"})


async def test_the_seed_s_operations_answer_in_its_words(client: httpx.AsyncClient, sent: list[Sent]) -> None:
    seed = await client.post("/process", json={"delay": 2})
    assert seed.status_code == 200, seed.text
    assert CompletedResponse.model_validate(seed.json()).result == COMPLETED_MESSAGE
    # The process type's own run operation answers with its whole result.
    typed = await client.post("/run/process", json={"delay": 2})
    assert typed.json()["result"] == {"result": COMPLETED_MESSAGE, "delay": 2.0}

    queued = await client.post("/tasks", json={"delay": 2})
    assert queued.status_code == 202
    assert SubmittedResponse.model_validate(queued.json()).links.events.endswith("/events")
    # All three are the process type's tasks, on the queue every release has used.
    assert {(task_name, queue) for task_name, queue, _, _ in sent} == {("taskgate.process", "taskgate")}


async def test_a_task_that_does_not_finish_in_time_is_pending(
    client: httpx.AsyncClient, outcomes: dict[str, Outcome], app_settings: ApiSettings
) -> None:
    outcomes.pop("echo")  # the worker never gets to it
    response = await client.post("/run/echo", json={"text": "hi"})
    assert response.status_code == 202
    pending = PendingResponse.model_validate(response.json())
    assert pending.message == PENDING_MESSAGE
    assert pending.time >= app_settings.task_timeout
    assert response.headers["Location"] == f"/tasks/{pending.task_id}"
    assert response.headers["Retry-After"] == "5"
    assert (await view_of(client, pending.task_id)).status == "queued"  # it keeps its place


@pytest.mark.parametrize(
    ("exc_type", "message", "error"),
    [
        ("ValueError", "bad text", "ValueError: bad text"),
        ("SoftTimeLimitExceeded", "", "time limit exceeded"),
    ],
)
async def test_a_failed_task_is_500_saying_why(
    client: httpx.AsyncClient, outcomes: dict[str, Outcome], exc_type: str, message: str, error: str
) -> None:
    outcomes["echo"] = failing(exc_type, message)
    response = await client.post("/run/echo", json={"text": "hi"})
    assert response.status_code == 500
    assert FailedResponse.model_validate(response.json()).error == error


async def test_with_on_timeout_cancel_a_pending_task_is_cancelled(
    serve: Serve, outcomes: dict[str, Outcome], app_settings: ApiSettings
) -> None:
    outcomes.pop("process")
    settings = app_settings.model_copy(update={"on_timeout": "cancel"})
    async with serve(settings=settings) as client:
        response = await client.post("/process", json={"delay": 5})
        assert response.status_code == 202
        view = await view_of(client, response.json()["task_id"])
    assert (view.status, view.error) == ("cancelled", "cancelled by request")


async def test_a_task_that_finished_as_the_wait_ran_out_is_not_cancelled(
    serve: Serve, redis: fakeredis.FakeAsyncRedis, monkeypatch: pytest.MonkeyPatch, app_settings: ApiSettings
) -> None:
    # The worker stores the outcome, but its publish is lost: the wait runs out as if it had not
    # finished, and cancelling it then must leave the outcome alone.
    async def lost(*args: object) -> int:
        return 0

    monkeypatch.setattr(redis, "publish", lost)
    settings = app_settings.model_copy(update={"on_timeout": "cancel"})
    async with serve(settings=settings) as client:
        response = await client.post("/run/echo", json={"text": "hi"})
        assert response.status_code == 202
        view = await view_of(client, response.json()["task_id"])
    assert (view.status, view.result) == ("completed", {"text": "hi"})
