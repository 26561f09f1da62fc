"""The result hub: one subscription resolves every waiter the moment its result is published."""

import asyncio
import contextlib
import json
import time

import fakeredis
import pytest
from redis.asyncio import Redis

from taskgate_api.engine.waiting import DeadlinePassedError, ResultHub, StoppedWaitingError
from taskgate_contracts.storage import result_key

SUCCESS = json.dumps({"status": "SUCCESS", "result": {"result": "ok", "delay": 0}})
PROGRESS = json.dumps({"status": "PROGRESS", "result": {"percent": 50}})


async def running_hub(redis: fakeredis.FakeAsyncRedis) -> tuple[ResultHub, asyncio.Task[None]]:
    hub = ResultHub(redis)
    task = asyncio.create_task(hub.run())
    while not hub.listening:
        await asyncio.sleep(0.001)
    return hub, task


async def test_published_result_resolves_its_waiter(redis: fakeredis.FakeAsyncRedis) -> None:
    hub, task = await running_hub(redis)
    with hub.expect("a") as outcome:
        await redis.publish(result_key("a"), PROGRESS)
        await redis.publish(result_key("a"), SUCCESS)
        meta = await asyncio.wait_for(outcome, 1)
    assert meta.state == "SUCCESS"
    assert hub.waiting == 0
    task.cancel()


async def test_progress_does_not_resolve_and_others_are_ignored(redis: fakeredis.FakeAsyncRedis) -> None:
    hub, task = await running_hub(redis)
    with hub.expect("a") as outcome:
        await redis.publish(result_key("a"), PROGRESS)
        await redis.publish(result_key("b"), SUCCESS)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(outcome), 0.1)
    task.cancel()


async def test_many_waiters_on_one_subscription(redis: fakeredis.FakeAsyncRedis) -> None:
    hub, task = await running_hub(redis)
    ids = [f"t{i}" for i in range(500)]
    with_contexts = [hub.expect(task_id) for task_id in ids]
    futures = [context.__enter__() for context in with_contexts]
    assert hub.waiting == len(ids)
    for task_id in ids:
        await redis.publish(result_key(task_id), SUCCESS)
    results = await asyncio.wait_for(asyncio.gather(*futures), 2)
    assert all(meta.finished for meta in results)
    for context in with_contexts:
        context.__exit__(None, None, None)
    assert hub.waiting == 0
    assert await redis.execute_command("PUBSUB", "NUMPAT") == 1
    task.cancel()


async def test_result_stored_before_subscribing_is_caught_up(redis: fakeredis.FakeAsyncRedis) -> None:
    hub = ResultHub(redis)
    with hub.expect("early") as outcome:
        await redis.set(result_key("early"), SUCCESS)  # finished while nobody listened
        task = asyncio.create_task(hub.run())
        meta = await asyncio.wait_for(outcome, 1)
    assert meta.finished
    task.cancel()


async def test_lost_connection_is_retried() -> None:
    hub = ResultHub(Redis.from_url("redis://127.0.0.1:1/0"))  # nothing listens there
    task = asyncio.create_task(hub.run())
    await asyncio.sleep(0.3)
    assert not hub.listening
    assert not task.done()  # still retrying, not crashed
    task.cancel()


async def test_stopping_releases_every_waiter_at_once(redis: fakeredis.FakeAsyncRedis) -> None:
    hub, task = await running_hub(redis)
    with hub.expect("a") as first, hub.expect("b") as second:
        hub.stop_waiting()
        for outcome in (first, second):
            with pytest.raises(StoppedWaitingError):
                await asyncio.wait_for(outcome, 1)
    task.cancel()


async def test_deadlines_release_every_waiter_due_and_no_other(redis: fakeredis.FakeAsyncRedis) -> None:
    hub, task = await running_hub(redis)
    deadline = time.monotonic() + 0.5
    with contextlib.ExitStack() as stack:
        due = [stack.enter_context(hub.expect(f"t{i}", deadline)) for i in range(1000)]
        answered = stack.enter_context(hub.expect("answered", deadline))
        later = stack.enter_context(hub.expect("later", deadline + 10))
        await redis.publish(result_key("answered"), SUCCESS)
        assert (await asyncio.wait_for(answered, 1)).finished
        assert not any(outcome.done() for outcome in due)

        await asyncio.wait(due, timeout=1)
        released_at = time.monotonic()
        assert deadline <= released_at < deadline + 0.1
        for outcome in due:
            with pytest.raises(DeadlinePassedError):
                outcome.result()
        assert not later.done()
    task.cancel()
