"""`GET /tasks/{id}` states, read from the task record and Celery's stored state."""

import asyncio
import json

import fakeredis
import pytest
from redis.asyncio import Redis

from taskgate_api.errors import ServiceUnavailableError
from taskgate_api.records import TaskRecords
from taskgate_contracts import TaskState
from taskgate_contracts.storage import RecordField, events_key, record_key, result_key


@pytest.fixture
def records(redis: fakeredis.FakeAsyncRedis) -> TaskRecords:
    return TaskRecords(redis, "127.0.0.1:6379", expires=60)


async def test_never_submitted_is_none(records: TaskRecords) -> None:
    assert await records.view("nope") is None


async def test_created_is_queued_and_expires(records: TaskRecords, redis: fakeredis.FakeAsyncRedis) -> None:
    await records.create("t1")
    view = await records.view("t1")
    assert view is not None
    assert view.status is TaskState.QUEUED
    assert view.queued_at is not None
    assert 0 < await redis.ttl(record_key("t1")) <= 60


async def test_records_asked_for_together_are_written_by_one_call(
    records: TaskRecords, redis: fakeredis.FakeAsyncRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    script = records._create

    async def counted(keys: list[str], args: list[object]) -> object:
        nonlocal calls
        calls += 1
        return await script(keys=keys, args=args)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "_create", counted)
    await asyncio.gather(*(records.create(f"t{i}") for i in range(50)))
    assert calls == 1
    for i in range(50):
        view = await records.view(f"t{i}")
        assert view is not None
        assert view.status is TaskState.QUEUED
        assert await redis.xlen(events_key(f"t{i}")) == 1


async def test_every_asker_learns_that_redis_is_unreachable() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    records = TaskRecords(unreachable, "127.0.0.1:1", expires=60)
    outcomes = await asyncio.gather(*(records.create(f"t{i}") for i in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, ServiceUnavailableError) for outcome in outcomes)
    assert all("Redis is unreachable at 127.0.0.1:1" in str(outcome) for outcome in outcomes)
    await unreachable.aclose()


async def test_started_record_is_running(records: TaskRecords, redis: fakeredis.FakeAsyncRedis) -> None:
    await records.create("t1")
    await redis.hset(
        record_key("t1"), mapping={RecordField.STARTED_AT: "2026-11-24T10:00:00+00:00", "worker": "w@h"}
    )
    view = await records.view("t1")
    assert view is not None
    assert view.status is TaskState.RUNNING
    assert view.worker == "w@h"


async def test_progress_and_completion(records: TaskRecords, redis: fakeredis.FakeAsyncRedis) -> None:
    await records.create("t1")
    progress = {"percent": 25, "current": 1, "total": 4, "message": "slept 0.5 of 2 s"}
    await redis.set(result_key("t1"), json.dumps({"status": "PROGRESS", "result": progress}))
    view = await records.view("t1")
    assert view is not None
    assert (view.status, view.progress.percent, view.progress.total) == (TaskState.RUNNING, 25, 4)

    done = {"result": "Запрос выполнен успешно", "delay": 2}
    meta = {"status": "SUCCESS", "result": done, "date_done": "2026-11-24T10:00:02+00:00", "worker": "w@h"}
    await redis.set(result_key("t1"), json.dumps(meta))
    view = await records.view("t1")
    assert view is not None
    assert view.status is TaskState.COMPLETED
    assert view.result == "Запрос выполнен успешно"
    assert view.error is None
    assert view.finished_at is not None
    assert view.worker == "w@h"


async def test_failure_has_a_reason(records: TaskRecords, redis: fakeredis.FakeAsyncRedis) -> None:
    await records.create("t1")
    failure = {"exc_type": "SoftTimeLimitExceeded", "exc_message": [], "exc_module": "billiard.exceptions"}
    await redis.set(result_key("t1"), json.dumps({"status": "FAILURE", "result": failure}))
    view = await records.view("t1")
    assert view is not None
    assert view.status is TaskState.FAILED
    assert view.error == "time limit exceeded"
    assert view.result is None


async def test_discard_forgets(records: TaskRecords) -> None:
    await records.create("t1")
    await records.discard("t1")
    assert await records.view("t1") is None
