"""`/tasks/{task_id}`: a task of any type — its state, a wait for its end, its cancellation — through the real
app on an in-process Redis, a stand-in playing RabbitMQ and the worker (conftest)."""

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import fakeredis
import httpx
import pytest

from taskgate_api.config import ApiSettings
from taskgate_contracts import ConflictResponse, NotFoundResponse, TaskView
from taskgate_contracts.storage import result_key

Outcome = Callable[[dict[str, Any]], dict[str, Any] | None]
Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def never_finishing(outcomes: dict[str, Outcome]) -> None:
    """The worker does not get to echo tasks: they stay queued until a test finishes one."""
    outcomes.pop("echo")


async def queued_echo(client: httpx.AsyncClient) -> str:
    response = await client.post("/submit/echo", json={"text": "hi"})
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


async def finish(redis: fakeredis.FakeAsyncRedis, task_id: str, result: dict[str, Any]) -> None:
    """What the worker's backend does when a task completes: store the state, then publish it."""
    meta = json.dumps({"status": "SUCCESS", "result": result, "task_id": task_id, "name": "taskgate.echo"})
    await redis.set(result_key(task_id), meta)
    await redis.publish(result_key(task_id), meta)


@pytest.mark.usefixtures("never_finishing")
async def test_cancelling_a_queued_task_answers_with_it_cancelled_then_409(client: httpx.AsyncClient) -> None:
    task_id = await queued_echo(client)
    cancelled = await client.delete(f"/tasks/{task_id}")
    assert cancelled.status_code == 202
    view = TaskView.model_validate(cancelled.json())
    assert (view.task, view.status, view.error) == ("echo", "cancelled", "cancelled by request")

    again = await client.delete(f"/tasks/{task_id}")
    assert again.status_code == 409
    conflict = ConflictResponse.model_validate(again.json())
    assert (conflict.status, conflict.detail) == ("cancelled", f"task {task_id} has already finished")


async def test_cancelling_a_finished_task_is_409_and_changes_nothing(client: httpx.AsyncClient) -> None:
    task_id = await queued_echo(client)  # the stand-in completes echo tasks at once
    response = await client.delete(f"/tasks/{task_id}")
    assert response.status_code == 409
    assert ConflictResponse.model_validate(response.json()).status == "completed"
    view = TaskView.model_validate((await client.get(f"/tasks/{task_id}")).json())
    assert (view.status, view.result) == ("completed", {"text": "hi"})


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("task_id", ["6f1c0000-0000-0000-0000-0000000000ff", "not-a-task-id"])
async def test_an_unknown_task_is_404(client: httpx.AsyncClient, method: str, task_id: str) -> None:
    response = await client.request(method, f"/tasks/{task_id}")
    assert response.status_code == 404
    assert "was never submitted" in NotFoundResponse.model_validate(response.json()).detail


@pytest.mark.usefixtures("never_finishing")
async def test_a_wait_answers_the_moment_the_task_finishes(
    serve: Serve, redis: fakeredis.FakeAsyncRedis, app_settings: ApiSettings
) -> None:
    async with serve(settings=app_settings.model_copy(update={"task_timeout": 10})) as client:
        task_id = await queued_echo(client)
        waiting = asyncio.create_task(client.get(f"/tasks/{task_id}", params={"wait": 10}))
        await finish(redis, task_id, {"text": "late"})
        # Long before the wait runs out: the result's publication ends it, nothing polls.
        response = await asyncio.wait_for(waiting, 5)
    view = TaskView.model_validate(response.json())
    assert (view.status, view.result) == ("completed", {"text": "late"})


@pytest.mark.usefixtures("never_finishing")
async def test_a_wait_that_runs_out_answers_with_the_task_as_it_is(client: httpx.AsyncClient) -> None:
    task_id = await queued_echo(client)
    response = await client.get(f"/tasks/{task_id}", params={"wait": 0.05})
    assert response.status_code == 200
    assert TaskView.model_validate(response.json()).status == "queued"
