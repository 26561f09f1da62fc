"""A task's event stream: snapshot, every logged change in order, the final state; exact resumption."""

import asyncio
import json
from collections.abc import AsyncIterator

import fakeredis
import httpx
import pytest

from taskgate_api.engine.following import FINAL_EVENT_ID, WINDOW, SentEvent, TaskFeeds, task_events
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.waiting import ResultHub
from taskgate_contracts import COMPLETED_MESSAGE, Progress, TaskEvent, TaskEventType, TaskState
from taskgate_contracts.storage import EventField, LoggedEvent, events_key, result_key
from taskgate_contracts.storage.scripts import NewTask, Retention

TASK = "6f1c0000-0000-0000-0000-000000000001"
#: What the process task returns: the whole result model, as JSON.
DONE = {"result": COMPLETED_MESSAGE, "delay": 1}


@pytest.fixture
async def hub(redis: fakeredis.FakeAsyncRedis) -> AsyncIterator[ResultHub]:
    hub = ResultHub(redis)
    task = asyncio.create_task(hub.run())
    while not hub.listening:
        await asyncio.sleep(0.001)
    yield hub
    task.cancel()


@pytest.fixture
def records(redis: fakeredis.FakeAsyncRedis) -> TaskRecords:
    return TaskRecords(redis, "127.0.0.1:6379", Retention(expires=60, history=120, tombstone=600))


@pytest.fixture
def feeds(records: TaskRecords, hub: ResultHub) -> TaskFeeds:
    return TaskFeeds(records, hub)


async def worker_reports(redis: fakeredis.FakeAsyncRedis, percent: float) -> None:
    """What the worker does at a progress step: log the event, then store and publish the state."""
    progress = Progress(percent=percent, current=int(percent), total=100)
    await redis.xadd(
        events_key(TASK),
        {
            EventField.TYPE: "progress",
            EventField.STATUS: "running",
            EventField.PROGRESS: progress.model_dump_json(),
        },
    )
    meta = json.dumps({"status": "PROGRESS", "result": progress.model_dump()})
    await redis.set(result_key(TASK), meta)
    await redis.publish(result_key(TASK), meta)


async def worker_finishes(redis: fakeredis.FakeAsyncRedis) -> None:
    meta = json.dumps({"status": "SUCCESS", "result": DONE})
    await redis.set(result_key(TASK), meta)
    await redis.publish(result_key(TASK), meta)


async def collect(source: AsyncIterator[SentEvent]) -> list[TaskEvent]:
    return [sent.event async for sent in source]


async def frames(source: AsyncIterator[SentEvent]) -> list[bytes]:
    return [sent.frame async for sent in source]


async def test_snapshot_then_changes_then_final(
    redis: fakeredis.FakeAsyncRedis, feeds: TaskFeeds, records: TaskRecords
) -> None:
    await records.create(NewTask(TASK, "process"))
    stream = asyncio.create_task(collect(task_events(TASK, feeds, None)))
    await asyncio.sleep(0.05)
    for percent in (0, 50, 100):
        await worker_reports(redis, percent)
    await worker_finishes(redis)
    events = await asyncio.wait_for(stream, 2)

    assert [event.type for event in events] == ["snapshot", "progress", "progress", "progress", "state"]
    assert events[0].task.status is TaskState.QUEUED
    assert [event.task.progress.percent for event in events[1:4]] == [0, 50, 100]
    assert events[-1].id == FINAL_EVENT_ID
    assert events[-1].task.status is TaskState.COMPLETED
    assert events[-1].task.result == DONE
    assert {event.task.task for event in events} == {"process"}
    assert len({event.id for event in events}) == len(events)


async def test_resuming_sends_exactly_the_events_after_the_last_one_seen(
    redis: fakeredis.FakeAsyncRedis, feeds: TaskFeeds, records: TaskRecords
) -> None:
    await records.create(NewTask(TASK, "process"))
    for percent in (0, 50, 100):
        await worker_reports(redis, percent)
    await worker_finishes(redis)
    everything = await collect(task_events(TASK, feeds, "0-0"))
    assert [event.type for event in everything] == ["state", "progress", "progress", "progress", "state"]

    seen = everything[2].id
    resumed = await collect(task_events(TASK, feeds, seen))
    assert [event.id for event in resumed] == [event.id for event in everything[3:]]
    assert await collect(task_events(TASK, feeds, FINAL_EVENT_ID)) == []


async def test_finished_task_streams_one_final_snapshot(
    redis: fakeredis.FakeAsyncRedis, feeds: TaskFeeds, records: TaskRecords
) -> None:
    await records.create(NewTask(TASK, "process"))
    await worker_finishes(redis)
    events = await collect(task_events(TASK, feeds, None))
    assert [(event.type, event.id, event.task.status) for event in events] == [
        (TaskEventType.SNAPSHOT, FINAL_EVENT_ID, TaskState.COMPLETED)
    ]


async def test_cancelling_ends_the_stream(
    redis: fakeredis.FakeAsyncRedis, feeds: TaskFeeds, records: TaskRecords
) -> None:
    await records.create(NewTask(TASK, "process"))
    stream = asyncio.create_task(collect(task_events(TASK, feeds, None)))
    await asyncio.sleep(0.05)
    await records.cancel(TASK)
    events = await asyncio.wait_for(stream, 2)
    assert events[-1].task.status is TaskState.CANCELLED
    assert events[-1].task.error == "cancelled by request"


async def test_followers_of_a_task_share_one_read_of_its_log_and_the_same_frames(
    redis: fakeredis.FakeAsyncRedis, feeds: TaskFeeds, records: TaskRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    await records.create(NewTask(TASK, "process"))
    reads = 0
    events_after = records.events_after

    async def counted(task_id: str, cursor: str) -> list[LoggedEvent]:
        nonlocal reads
        reads += 1
        return await events_after(task_id, cursor)

    monkeypatch.setattr(records, "events_after", counted)
    followers = [asyncio.create_task(frames(task_events(TASK, feeds, None))) for _ in range(10)]
    await asyncio.sleep(0.05)
    for percent in (0, 50, 100):
        await worker_reports(redis, percent)
        await asyncio.sleep(0.02)
    await worker_finishes(redis)
    streams = await asyncio.wait_for(asyncio.gather(*followers), 2)

    # One read as the feed starts and one per change (three reports and the end), not one per follower.
    assert reads == 5
    first = streams[0]
    assert len(first) == 5
    for stream in streams[1:]:
        assert [a is b for a, b in zip(stream, first, strict=True)] == [True] * 5


async def test_a_follower_behind_the_feed_reads_what_it_missed_from_its_cursor(
    redis: fakeredis.FakeAsyncRedis, feeds: TaskFeeds, records: TaskRecords
) -> None:
    await records.create(NewTask(TASK, "process"))
    keeping_up = asyncio.create_task(collect(task_events(TASK, feeds, None)))
    slow = task_events(TASK, feeds, None)
    snapshot = await anext(slow)
    await asyncio.sleep(0.05)
    for step in range(WINDOW * 2):
        await worker_reports(redis, step)
        await asyncio.sleep(0.005)
    await worker_finishes(redis)
    events = [snapshot.event, *await asyncio.wait_for(collect(slow), 2)]
    await asyncio.wait_for(keeping_up, 2)

    logged = [entry.id for entry in await records.events_after(TASK, "0-0")]
    after = logged[logged.index(events[0].id) + 1 :]
    assert [event.id for event in events[1:]] == [*after, FINAL_EVENT_ID]
    assert [event.task.progress.percent for event in events[1:-1]] == list(range(WINDOW * 2))


def parse_events(stream: str) -> list[dict[str, str]]:
    """Server-Sent Events as field → value, comments (heartbeats) left out."""
    events = []
    for block in stream.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            events.append(fields)
    return events


async def test_a_finished_task_of_any_type_streams_its_final_snapshot_over_http(
    client: httpx.AsyncClient,
) -> None:
    submitted = await client.post("/submit/echo", json={"text": "hi", "times": 2})
    assert submitted.status_code == 202, submitted.text
    events_path = submitted.json()["links"]["events"]

    response = await client.get(events_path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    [event] = parse_events(response.text)
    assert (event["event"], event["id"]) == ("snapshot", FINAL_EVENT_ID)
    task = json.loads(event["data"])
    assert (task["task"], task["status"], task["result"]) == ("echo", "completed", {"text": "hi hi"})

    # A client that saw the final event and reconnects is told nothing more.
    resumed = await client.get(events_path, headers={"Last-Event-ID": FINAL_EVENT_ID})
    assert parse_events(resumed.text) == []


async def test_events_of_an_unknown_task_are_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/tasks/6f1c0000-0000-0000-0000-0000000000ff/events")
    assert response.status_code == 404
