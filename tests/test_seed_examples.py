"""The seed's examples over HTTP, against a real worker on RabbitMQ and Redis."""

import asyncio
import time
from urllib.parse import urlsplit
from uuid import uuid4

import httpx

from taskgate_contracts import (
    COMPLETED_MESSAGE,
    PENDING_MESSAGE,
    CompletedResponse,
    NotFoundResponse,
    PendingResponse,
    TaskState,
)
from tests.client import task_view, wait_for_state
from tests.settings import IMPATIENT_TIMEOUT

COMPLETED_FIELDS = {"status", "result", "time", "task_id"}
PENDING_FIELDS = {"status", "message", "time", "task_id"}


def completed(response: httpx.Response) -> CompletedResponse:
    assert response.status_code == httpx.codes.OK, response.text
    assert set(response.json()) == COMPLETED_FIELDS
    body = CompletedResponse.model_validate_json(response.content)
    assert body.result == COMPLETED_MESSAGE
    assert body.task_id
    return body


async def test_delay_2_completes_in_about_2_seconds(client: httpx.AsyncClient) -> None:
    body = completed(await client.post("/process", json={"delay": 2}))

    assert 2.0 <= body.time <= 2.5


async def test_empty_object_is_a_delay_of_zero_answered_at_once(client: httpx.AsyncClient) -> None:
    body = completed(await client.post("/process", json={}))

    assert body.time < 0.5


async def test_one_worker_runs_jobs_in_order_and_time_includes_the_queue(client: httpx.AsyncClient) -> None:
    first_sent = time.monotonic()
    first = asyncio.create_task(client.post("/process", json={"delay": 4}))
    await asyncio.sleep(0.3)
    gap = time.monotonic() - first_sent
    second = completed(await client.post("/process", json={"delay": 1}))
    first_body = completed(await first)

    assert 4.0 <= first_body.time <= 4.5
    # The second job waited for the first to finish, then ran its own second.
    expected = first_body.time - gap + 1
    assert expected - 0.1 <= second.time <= expected + 0.5, (first_body.time, gap, second.time)


async def test_beyond_task_timeout_answers_pending_and_the_task_still_completes(
    impatient_client: httpx.AsyncClient,
) -> None:
    response = await impatient_client.post("/process", json={"delay": IMPATIENT_TIMEOUT + 2})

    assert response.status_code == httpx.codes.ACCEPTED, response.text
    assert set(response.json()) == PENDING_FIELDS
    body = PendingResponse.model_validate_json(response.content)
    assert body.message == PENDING_MESSAGE
    assert abs(body.time - IMPATIENT_TIMEOUT) <= 0.5
    assert urlsplit(response.headers["location"]).path == f"/tasks/{body.task_id}"
    assert int(response.headers["retry-after"]) > 0

    view = await wait_for_state(impatient_client, body.task_id, TaskState.COMPLETED, within=5)
    assert view.task == "process"
    assert view.result == {"result": COMPLETED_MESSAGE, "delay": IMPATIENT_TIMEOUT + 2}
    assert view.error is None
    assert view.queued_at is not None
    assert view.started_at is not None
    assert view.finished_at is not None
    assert view.queued_at <= view.started_at <= view.finished_at


async def test_progress_is_visible_while_the_task_runs(impatient_client: httpx.AsyncClient) -> None:
    response = await impatient_client.post("/process", json={"delay": IMPATIENT_TIMEOUT + 3})
    assert response.status_code == httpx.codes.ACCEPTED, response.text
    task_id = response.json()["task_id"]

    first = await task_view(impatient_client, task_id)
    await asyncio.sleep(1)
    later = await task_view(impatient_client, task_id)

    assert first.status is TaskState.RUNNING
    assert first.worker
    assert 0 < first.progress.percent < later.progress.percent < 100
    finished = await wait_for_state(impatient_client, task_id, TaskState.COMPLETED, within=5)
    assert finished.progress.percent == 100


async def test_a_task_never_submitted_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/tasks/{uuid4()}")

    assert response.status_code == httpx.codes.NOT_FOUND, response.text
    assert NotFoundResponse.model_validate_json(response.content).detail
