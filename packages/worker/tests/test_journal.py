"""The event log the worker keeps, and cancellation marked by the api in Redis."""

import json
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import cast

import pytest
import redis
from celery import Celery, Task
from celery.result import AsyncResult

from taskgate_contracts import Progress, TaskCancelled
from taskgate_contracts.storage import RecordField, events_key, record_key, result_key
from taskgate_worker.context import RunningTask

Send = Callable[..., AsyncResult]
WAIT = 10


def _logged(redis_client: redis.Redis, task_id: str) -> list[dict[str, str]]:
    entries = cast(list[tuple[str, dict[str, str]]], redis_client.xrange(events_key(task_id)))
    return [fields for _, fields in entries]


def _status(redis_client: redis.Redis, task_id: str) -> str:
    meta = redis_client.get(result_key(task_id))
    assert meta is not None
    status: str = json.loads(meta)["status"]
    return status


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_start_and_every_progress_step_are_logged_in_order(send: Send, redis_client: redis.Redis) -> None:
    result = send(delay=1)
    result.get(timeout=WAIT)
    logged = _logged(redis_client, result.id)
    assert [(event["type"], event["status"]) for event in logged] == [
        ("state", "running"),
        ("progress", "running"),
        ("progress", "running"),
        ("progress", "running"),
    ]
    assert logged[0]["worker"]
    assert [Progress.model_validate_json(event["progress"]).percent for event in logged[1:]] == [0, 50, 100]
    assert 0 < redis_client.ttl(events_key(result.id)) <= 300


def test_a_task_cancelled_before_it_starts_never_runs(send: Send, redis_client: redis.Redis) -> None:
    task_id = str(uuid.uuid4())
    redis_client.hset(record_key(task_id), RecordField.CANCELLED_AT, "2026-11-24T10:00:00+00:00")
    send(task_id=task_id, delay=0)
    time.sleep(0.5)  # time enough for a delay-0 task to have run
    assert redis_client.get(result_key(task_id)) is None  # nothing overwrote what the api stored
    assert RecordField.STARTED_AT not in redis_client.hgetall(record_key(task_id))
    assert _logged(redis_client, task_id) == []


def test_a_running_task_stops_within_a_second_of_being_cancelled(
    send: Send, redis_client: redis.Redis
) -> None:
    result = send(delay=5)
    _wait_for(lambda: RecordField.STARTED_AT in redis_client.hgetall(record_key(result.id)))
    redis_client.hset(record_key(result.id), RecordField.CANCELLED_AT, "2026-11-24T10:00:00+00:00")
    cancelled = time.monotonic()
    steps = len(_logged(redis_client, result.id))
    time.sleep(1.0)
    assert len(_logged(redis_client, result.id)) <= steps + 1  # at most the step already under way
    assert _status(redis_client, result.id) == "REVOKED"  # never SUCCESS
    # The worker is free again: the next task runs at once.
    assert send(delay=0).get(timeout=WAIT)["delay"] == 0
    assert time.monotonic() - cancelled < 2


def _running(app: Celery, task_id: str) -> RunningTask:
    """The context of a task the test plays, beside the worker."""
    task = SimpleNamespace(app=app, request=SimpleNamespace(id=task_id, retries=1, hostname="test@here"))
    return RunningTask(cast(Task, task), None)


def test_a_handler_learns_of_its_cancellation_when_it_asks(
    app: Celery, redis_client: redis.Redis, sent: list[str]
) -> None:
    task_id = str(uuid.uuid4())
    sent.append(task_id)
    context = _running(app, task_id)

    context.raise_if_cancelled()
    redis_client.hset(record_key(task_id), RecordField.CANCELLED_AT, "2026-11-24T10:00:00+00:00")

    with pytest.raises(TaskCancelled):
        context.raise_if_cancelled()
    with pytest.raises(TaskCancelled):
        context.report(50, "half way")
    assert _logged(redis_client, task_id) == []  # the report wrote nothing
    assert (context.task_id, context.attempt, context.settings) == (task_id, 2, None)
