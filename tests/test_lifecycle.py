"""The task lifecycle over HTTP on the real stack: submit, wait, follow the events, cancel, deduplicate."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from taskgate_contracts import SubmittedResponse, TaskEvent, TaskEventType, TaskState, TaskView
from testkit.infrastructure import TaskKeys
from testkit.processes import Service, running, settings_env, start_api, wait_ready
from tests.client import connect, task_view, wait_for_state
from tests.settings import IMPATIENT_TIMEOUT, MAX_DELAY


async def submit(client: httpx.AsyncClient, delay: float, **headers: str) -> str:
    response = await client.post("/tasks", json={"delay": delay}, headers=headers)
    assert response.status_code == 202, response.text
    submitted = SubmittedResponse.model_validate_json(response.content)
    assert response.headers["Location"] == f"/tasks/{submitted.task_id}" == submitted.links.self
    return submitted.task_id


async def read_events(
    client: httpx.AsyncClient, task_id: str, last_event_id: str | None = None
) -> list[TaskEvent]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[TaskEvent] = []
    fields: dict[str, str] = {}
    async with client.stream("GET", f"/tasks/{task_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
                continue
            if "data" in fields:
                task = TaskView.model_validate_json(fields["data"])
                events.append(TaskEvent(id=fields["id"], type=TaskEventType(fields["event"]), task=task))
            fields = {}
    return events


async def test_submit_answers_at_once_and_wait_returns_the_outcome(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    task_id = await submit(client, 1)
    assert time.monotonic() - started < 0.5
    queued = await task_view(client, task_id)
    assert queued.status in (TaskState.QUEUED, TaskState.RUNNING)
    response = await client.get(f"/tasks/{task_id}", params={"wait": 5})
    view = TaskView.model_validate_json(response.content)
    assert view.status is TaskState.COMPLETED
    assert time.monotonic() - started < 2.5
    assert view.queued_at is not None
    assert view.started_at is not None
    assert view.finished_at is not None
    assert view.queued_at <= view.started_at <= view.finished_at
    assert view.worker


async def test_wait_beyond_task_timeout_is_refused(client: httpx.AsyncClient) -> None:
    task_id = await submit(client, 0)
    response = await client.get(f"/tasks/{task_id}", params={"wait": 999})
    assert response.status_code == 422
    assert "TASK_TIMEOUT" in response.json()["detail"][0]["msg"]


async def test_events_stream_every_change_and_resume_exactly(client: httpx.AsyncClient) -> None:
    task_id = await submit(client, 1.2)
    events = await asyncio.wait_for(read_events(client, task_id), 10)
    assert events[0].type is TaskEventType.SNAPSHOT
    assert events[-1].id == "final"
    assert events[-1].task.status is TaskState.COMPLETED
    percents = [event.task.progress.percent for event in events if event.type is TaskEventType.PROGRESS]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert len({event.id for event in events}) == len(events)

    everything = await read_events(client, task_id, last_event_id="0-0")
    middle = everything[len(everything) // 2]
    resumed = await read_events(client, task_id, last_event_id=middle.id)
    assert [event.id for event in resumed] == [event.id for event in everything[len(everything) // 2 + 1 :]]
    assert await read_events(client, task_id, last_event_id="final") == []


async def test_cancel_a_running_task_stops_it_within_a_second(client: httpx.AsyncClient) -> None:
    task_id = await submit(client, 8)
    await wait_for_state(client, task_id, TaskState.RUNNING, within=5)
    response = await client.delete(f"/tasks/{task_id}")
    assert response.status_code == 202
    assert TaskView.model_validate_json(response.content).status is TaskState.CANCELLED
    cancelled = time.monotonic()
    # The worker is free again within a second: a delay-0 job sent now completes at once.
    answer = await client.post("/process", json={"delay": 0})
    assert answer.json()["status"] == "completed"
    assert time.monotonic() - cancelled < 1.5
    view = await task_view(client, task_id)
    assert view.status is TaskState.CANCELLED
    assert view.error == "cancelled by request"
    assert (await client.delete(f"/tasks/{task_id}")).status_code == 409


async def test_a_cancelled_queued_task_never_starts(client: httpx.AsyncClient) -> None:
    blocker = await submit(client, 1.5)
    queued = await submit(client, 0)
    assert (await client.delete(f"/tasks/{queued}")).status_code == 202
    await client.get(f"/tasks/{blocker}", params={"wait": 5})
    await asyncio.sleep(0.5)  # the worker has reached the cancelled task by now
    view = await task_view(client, queued)
    assert view.status is TaskState.CANCELLED
    assert view.started_at is None
    assert view.worker is None


async def test_finished_task_cannot_be_cancelled(client: httpx.AsyncClient) -> None:
    done = (await client.post("/process", json={"delay": 0})).json()["task_id"]
    response = await client.delete(f"/tasks/{done}")
    assert response.status_code == 409
    assert response.json()["status"] == "completed"


async def test_unknown_tasks_are_404_everywhere(client: httpx.AsyncClient) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for method, path in [("GET", ""), ("DELETE", ""), ("GET", "/events")]:
        response = await client.request(method, f"/tasks/{unknown}{path}")
        assert response.status_code == 404, (method, path)
    assert (await client.get("/tasks/not-a-task-id")).status_code == 404


async def test_concurrent_duplicates_with_one_key_run_once(client: httpx.AsyncClient) -> None:
    key = f"order-{time.monotonic_ns()}"
    answers = await asyncio.gather(
        *(client.post("/process", json={"delay": 0.5}, headers={"Idempotency-Key": key}) for _ in range(10)),
        *(client.post("/tasks", json={"delay": 0.5}, headers={"Idempotency-Key": key}) for _ in range(10)),
    )
    assert {answer.status_code for answer in answers} <= {200, 202}
    assert len({answer.json()["task_id"] for answer in answers}) == 1
    assert all(answer.json()["status"] == "completed" for answer in answers[:10])
    again = await client.post("/tasks", json={"delay": 1}, headers={"Idempotency-Key": key})
    assert again.status_code == 422
    assert "different body" in again.json()["detail"][0]["msg"]


@pytest.fixture(scope="module")
def cancelling_api(
    request: pytest.FixtureRequest, main_vhost: str, tmp_path_factory: pytest.TempPathFactory, worker: Service
) -> Iterator[Service]:
    """An impatient api with the seed's behaviour: it cancels the task it stops waiting for."""
    env = settings_env(main_vhost, task_timeout=IMPATIENT_TIMEOUT, max_delay=MAX_DELAY, on_timeout="cancel")
    api = start_api("cancelling-api", env, tmp_path_factory.mktemp("cancelling-api"))
    with running(request.config, api) as service:
        wait_ready(service, worker)
        yield service


@pytest.fixture
async def cancelling_client(cancelling_api: Service, task_keys: TaskKeys) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(cancelling_api.url, task_keys) as http:
        yield http


async def test_on_timeout_cancel_restores_the_seeds_behaviour(cancelling_client: httpx.AsyncClient) -> None:
    response = await cancelling_client.post("/process", json={"delay": IMPATIENT_TIMEOUT + 3})
    assert response.status_code == 202
    view = await task_view(cancelling_client, response.json()["task_id"])
    assert view.status is TaskState.CANCELLED
