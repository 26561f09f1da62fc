import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import pytest
import redis
from celery import states
from celery.exceptions import SoftTimeLimitExceeded
from celery.result import AsyncResult

from taskgate_contracts import COMPLETED_MESSAGE, PROGRESS_STATE, Progress
from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.storage import RecordField, record_key, result_key
from taskgate_worker.config import WorkerSettings

Send = Callable[..., AsyncResult]

WAIT = 10


def _meta(redis_client: redis.Redis, task_id: str) -> dict[str, object] | None:
    raw = redis_client.get(result_key(task_id))
    return None if raw is None else json.loads(raw)


def test_returns_the_process_result(send: Send) -> None:
    result = send(delay=0)
    assert result.get(timeout=WAIT) == {"result": COMPLETED_MESSAGE, "delay": 0}


def test_fractional_delay_is_slept(send: Send) -> None:
    started = time.monotonic()
    assert send(delay=0.3).get(timeout=WAIT) == {"result": COMPLETED_MESSAGE, "delay": 0.3}
    assert time.monotonic() - started >= 0.3


def test_records_when_where_and_on_which_attempt_it_started(
    send: Send, redis_client: redis.Redis, worker: str
) -> None:
    result = send(delay=0)
    result.get(timeout=WAIT)
    record = redis_client.hgetall(record_key(result.id))
    assert record[RecordField.WORKER] == worker
    assert record[RecordField.ATTEMPT] == "1"
    assert datetime.fromisoformat(str(record[RecordField.STARTED_AT])).utcoffset() is not None
    assert 0 < redis_client.ttl(record_key(result.id)) <= 300


def test_result_names_the_worker(send: Send, redis_client: redis.Redis, worker: str) -> None:
    result = send(delay=0)
    result.get(timeout=WAIT)
    meta = _meta(redis_client, result.id)
    assert meta is not None
    assert meta["worker"] == worker
    assert meta["name"] == PROCESS.task_name


def test_progress_is_visible_while_it_runs(send: Send, redis_client: redis.Redis) -> None:
    result = send(delay=0.9)
    deadline = time.monotonic() + WAIT
    meta = _meta(redis_client, result.id)
    while not (meta and meta["status"] == PROGRESS_STATE and meta["result"]["current"] == 1):  # type: ignore[index]
        assert time.monotonic() < deadline, f"no progress seen, last state: {meta}"
        time.sleep(0.02)
        meta = _meta(redis_client, result.id)
    assert Progress.model_validate(meta["result"]) == Progress(
        percent=50, current=1, total=2, message="slept 0.5 of 0.9 s"
    )
    assert result.get(timeout=WAIT)["delay"] == 0.9


def _published_states(redis_client: redis.Redis, send: Send, delay: float) -> list[dict[str, object]]:
    """Every state the task published on its result channel, which is what the api listens to."""
    task_id = str(uuid.uuid4())
    pubsub = redis_client.pubsub()
    pubsub.subscribe(result_key(task_id))
    try:
        send(task_id=task_id, delay=delay)
        published: list[dict[str, object]] = []
        deadline = time.monotonic() + WAIT
        while not published or published[-1]["status"] not in states.READY_STATES:
            assert time.monotonic() < deadline, f"the task did not finish, published so far: {published}"
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message is not None:
                published.append(json.loads(message["data"]))
        return published
    finally:
        pubsub.close()


def test_progress_is_published_at_start_and_after_each_step(send: Send, redis_client: redis.Redis) -> None:
    published = _published_states(redis_client, send, delay=1)
    assert [meta["status"] for meta in published] == [PROGRESS_STATE] * 3 + [states.SUCCESS]
    assert [meta["result"] for meta in published[:3]] == [
        {"percent": 0, "current": 0, "total": 2, "message": "slept 0 of 1 s"},
        {"percent": 50, "current": 1, "total": 2, "message": "slept 0.5 of 1 s"},
        {"percent": 100, "current": 2, "total": 2, "message": "slept 1 of 1 s"},
    ]


def test_delay_zero_writes_only_its_result(send: Send, redis_client: redis.Redis) -> None:
    published = _published_states(redis_client, send, delay=0)
    assert [meta["status"] for meta in published] == [states.SUCCESS]


def _seconds_run(redis_client: redis.Redis, task_id: str) -> float:
    """From the task's start record to the moment its final state was stored."""
    started = datetime.fromisoformat(str(redis_client.hget(record_key(task_id), RecordField.STARTED_AT)))
    meta = _meta(redis_client, task_id)
    assert meta is not None
    return (datetime.fromisoformat(str(meta["date_done"])) - started).total_seconds()


def test_sleeps_against_a_deadline_without_drift(send: Send, redis_client: redis.Redis) -> None:
    result = send(delay=0.9)
    result.get(timeout=WAIT)
    assert 0.9 <= _seconds_run(redis_client, result.id) < 1.0


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"delay": -1}, "delay: Input should be greater than or equal to 0"),
        ({"delay": "2"}, "delay: Input should be a valid number"),
        ({"delay": 1, "speed": 2}, "speed: Extra inputs are not permitted"),
        # The deployment's MAX_DELAY (the tests' environment says 100), not the default of 3600.
        ({"delay": 101}, "delay: Input should be less than or equal to 100 (MAX_DELAY)"),
    ],
)
def test_invalid_arguments_fail_with_a_clear_message(
    send: Send, kwargs: dict[str, object], reason: str
) -> None:
    result = send(**kwargs)
    with pytest.raises(
        ValueError, match="^" + re.escape(f"invalid arguments for taskgate.process: {reason}")
    ) as raised:
        result.get(timeout=WAIT)
    assert result.state == states.FAILURE
    assert "\n" not in str(raised.value)


def test_time_limit_ends_the_task(send: Send, redis_client: redis.Redis, settings: WorkerSettings) -> None:
    limit = settings.soft_time_limit
    delay = limit + 3
    result = send(delay=delay)
    with pytest.raises(SoftTimeLimitExceeded):
        result.get(timeout=WAIT)
    assert result.state == states.FAILURE
    # The pool checks limits once a second when it has no event loop, as on the in-memory broker.
    assert limit <= _seconds_run(redis_client, result.id) < limit + 1.2 < delay
