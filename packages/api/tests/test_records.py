"""Task records in Redis: what the api writes when it queues and cancels a task, and what it reads back —
its record and the state the worker's Celery backend stored — through contracts' codec."""

import asyncio
import json
from typing import Any, cast

import fakeredis
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from taskgate_api.engine.errors import ServiceUnavailableError, TaskFinishedError
from taskgate_api.engine.records import TaskRecords
from taskgate_contracts import COMPLETED_MESSAGE, TIME_LIMIT_EXCEEDED, TaskState
from taskgate_contracts.storage import (
    CANCELLED_REASON,
    EventField,
    RecordField,
    events_key,
    record_key,
    result_key,
)
from taskgate_contracts.storage.scripts import NewTask, Retention

DONE = {"result": COMPLETED_MESSAGE, "delay": 2}


@pytest.fixture
def records(redis: fakeredis.FakeAsyncRedis) -> TaskRecords:
    return TaskRecords(redis, "127.0.0.1:6379", Retention(expires=60, history=120, tombstone=600))


def stored(status: str, result: object, **extra: object) -> str:
    """A state as the worker's Celery backend stores it."""
    return json.dumps({"status": status, "result": result, **extra})


async def next_message(pubsub: PubSub) -> bytes:
    """The next message published on a subscribed channel (a subscription's confirmation is skipped)."""
    async with asyncio.timeout(1):
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                data: bytes = message["data"]
                return data


async def text_fields(redis: fakeredis.FakeAsyncRedis, key: str) -> dict[str, str]:
    fields = cast(dict[bytes, bytes], await redis.hgetall(key))
    return {field.decode(): value.decode() for field, value in fields.items()}


async def test_never_submitted_is_none(records: TaskRecords) -> None:
    assert await records.view("nope") is None
    assert await records.result("nope") is None


async def test_created_is_queued_with_its_type_and_expires(
    records: TaskRecords, redis: fakeredis.FakeAsyncRedis
) -> None:
    await records.create(NewTask("t1", "thumbnail"))
    view = await records.view("t1")
    assert view is not None
    assert (view.status, view.task, view.attempts) == (TaskState.QUEUED, "thumbnail", 0)
    assert view.queued_at is not None
    record = await text_fields(redis, record_key("t1"))
    assert record[RecordField.TASK] == "thumbnail"
    # The queued state is the first entry of the event log, so a client following the task sees it.
    [(_, event)] = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis.xrange(events_key("t1")))
    assert event == {EventField.TYPE.encode(): b"state", EventField.STATUS.encode(): b"queued"}
    assert 0 < await redis.ttl(record_key("t1")) <= 60
    assert 0 < await redis.ttl(events_key("t1")) <= 60


async def test_records_asked_for_together_are_written_by_one_call_each_with_its_type(
    records: TaskRecords, redis: fakeredis.FakeAsyncRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    script = records._create

    async def counted(keys: list[str], args: list[object]) -> object:
        nonlocal calls
        calls += 1
        return await script(keys=keys, args=args)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "_create", counted)
    types = ["process", "thumbnail", "acme.weekly-report"]
    await asyncio.gather(*(records.create(NewTask(f"t{i}", types[i % 3])) for i in range(50)))
    assert calls == 1
    for i in range(50):
        view = await records.view(f"t{i}")
        assert view is not None
        # Each record gets its own type, though one script call wrote them all.
        assert (view.status, view.task) == (TaskState.QUEUED, types[i % 3])
        assert await redis.xlen(events_key(f"t{i}")) == 1


async def test_every_asker_learns_that_redis_is_unreachable() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    records = TaskRecords(unreachable, "127.0.0.1:1", Retention(expires=60, history=120, tombstone=600))
    outcomes = await asyncio.gather(
        *(records.create(NewTask(f"t{i}", "process")) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, ServiceUnavailableError) for outcome in outcomes)
    assert all("Redis is unreachable at 127.0.0.1:1" in str(outcome) for outcome in outcomes)
    await unreachable.aclose()


async def test_started_record_is_running(records: TaskRecords, redis: fakeredis.FakeAsyncRedis) -> None:
    await records.create(NewTask("t1", "process"))
    await redis.hset(
        record_key("t1"),
        mapping={
            RecordField.STARTED_AT: "2026-11-24T10:00:00+00:00",
            RecordField.WORKER: "w@h",
            "attempt": "2",
        },
    )
    view = await records.view("t1")
    assert view is not None
    assert (view.status, view.worker, view.attempts) == (TaskState.RUNNING, "w@h", 2)


async def test_progress_and_completion(records: TaskRecords, redis: fakeredis.FakeAsyncRedis) -> None:
    await records.create(NewTask("t1", "process"))
    progress = {"percent": 25, "current": 1, "total": 4, "message": "slept 0.5 of 2 s"}
    await redis.set(result_key("t1"), stored("PROGRESS", progress))
    view = await records.view("t1")
    assert view is not None
    assert (view.status, view.progress.percent, view.progress.total) == (TaskState.RUNNING, 25, 4)

    await redis.set(
        result_key("t1"), stored("SUCCESS", DONE, date_done="2026-11-24T10:00:02+00:00", worker="w@h")
    )
    view = await records.view("t1")
    assert view is not None
    assert view.status is TaskState.COMPLETED
    # The whole result model, as JSON: what the type's result model says, not only the seed's message.
    assert view.result == DONE
    assert (view.progress.percent, view.error, view.worker) == (100, None, "w@h")
    assert view.finished_at is not None
    assert view.finished_at.year == 2026
    meta = await records.result("t1")
    assert meta is not None
    assert meta.finished


FAILURE = "FAILURE"
#: Stored states the worker's backend writes, and what the api reports of each.
STATES: dict[str, tuple[str, Any, dict[str, Any], TaskState, str | None]] = {
    "pending": ("PENDING", None, {}, TaskState.QUEUED, None),
    "retrying": ("RETRY", {"exc_type": "TransientError"}, {}, TaskState.QUEUED, None),
    "soft time limit": (
        FAILURE,
        {"exc_type": "SoftTimeLimitExceeded", "exc_message": [], "exc_module": "billiard.exceptions"},
        {},
        TaskState.FAILED,
        TIME_LIMIT_EXCEEDED,
    ),
    "hard time limit": (
        FAILURE,
        {"exc_type": "TimeLimitExceeded", "exc_message": ["35.0"], "exc_module": "billiard.exceptions"},
        {},
        TaskState.FAILED,
        TIME_LIMIT_EXCEEDED,
    ),
    "an exception, its traceback kept back": (
        FAILURE,
        {"exc_type": "ValueError", "exc_message": ["delay must be finite"], "exc_module": "builtins"},
        {"traceback": "Traceback (most recent call last): ..."},
        TaskState.FAILED,
        "ValueError: delay must be finite",
    ),
    "a failure without details": (FAILURE, None, {}, TaskState.FAILED, "failure"),
}


@pytest.mark.parametrize(("state", "result", "extra", "status", "error"), STATES.values(), ids=STATES.keys())
async def test_what_the_worker_stored_is_read_back(
    records: TaskRecords,
    redis: fakeredis.FakeAsyncRedis,
    state: str,
    result: object,
    extra: dict[str, Any],
    status: TaskState,
    error: str | None,
) -> None:
    await records.create(NewTask("t1", "process"))
    await redis.set(result_key("t1"), stored(state, result, **extra))
    view = await records.view("t1")
    assert view is not None
    assert (view.status, view.error, view.result) == (status, error, None)
    assert "Traceback" not in view.model_dump_json()


async def test_discard_forgets(records: TaskRecords) -> None:
    await records.create(NewTask("t1", "process"))
    await records.discard("t1")
    assert await records.view("t1") is None


async def test_cancelling_an_unfinished_task_marks_it_stores_it_revoked_and_tells_waiters(
    records: TaskRecords, redis: fakeredis.FakeAsyncRedis
) -> None:
    await records.create(NewTask("t1", "process"))
    pubsub = redis.pubsub()
    await pubsub.subscribe(result_key("t1"))
    await records.cancel("t1")

    view = await records.view("t1")
    assert view is not None
    assert (view.status, view.error, view.task) == (TaskState.CANCELLED, CANCELLED_REASON, "process")
    assert RecordField.CANCELLED_AT in await text_fields(redis, record_key("t1"))
    assert 0 < await redis.ttl(result_key("t1")) <= 60
    # Published as the worker's backend would, so a request waiting for the task answers at once.
    assert json.loads(await next_message(pubsub))["status"] == "REVOKED"
    await pubsub.aclose()


async def test_a_cancelled_task_stays_cancelled_when_a_late_progress_report_overwrites_its_state(
    records: TaskRecords, redis: fakeredis.FakeAsyncRedis
) -> None:
    await records.create(NewTask("t1", "process"))
    await redis.set(result_key("t1"), stored("PROGRESS", {"percent": 10}))
    await records.cancel("t1")
    # The worker reported progress just before it saw the cancel mark.
    await redis.set(result_key("t1"), stored("PROGRESS", {"percent": 20}))
    view = await records.view("t1")
    assert view is not None
    assert (view.status, view.error) == (TaskState.CANCELLED, CANCELLED_REASON)


FINISHED = {
    "completed": (stored("SUCCESS", DONE), TaskState.COMPLETED),
    "failed": (stored(FAILURE, {"exc_type": "ValueError", "exc_message": ["no"]}), TaskState.FAILED),
    "cancelled": (stored("REVOKED", {"exc_type": "TaskRevokedError"}), TaskState.CANCELLED),
}


@pytest.mark.parametrize(("state", "status"), FINISHED.values(), ids=FINISHED.keys())
async def test_cancelling_a_finished_task_changes_nothing_and_says_how_it_ended(
    records: TaskRecords, redis: fakeredis.FakeAsyncRedis, state: str, status: TaskState
) -> None:
    await records.create(NewTask("t1", "process"))
    await redis.set(result_key("t1"), state)
    pubsub = redis.pubsub()
    await pubsub.subscribe(result_key("t1"))

    with pytest.raises(TaskFinishedError, match="t1 has already finished") as refused:
        await records.cancel("t1")
    assert refused.value.view.status is status
    assert await redis.get(result_key("t1")) == state.encode()
    assert RecordField.CANCELLED_AT not in await text_fields(redis, record_key("t1"))
    # Nothing was published: the first message on the channel is the one published after the cancel.
    await redis.publish(result_key("t1"), "after the cancel")
    assert await next_message(pubsub) == b"after the cancel"
    await pubsub.aclose()
