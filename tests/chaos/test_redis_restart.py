"""Fault 3: Redis restarts while clients wait for their jobs.

Redis keeps its data across the restart (append-only file, as in production). No request hangs past
TASK_TIMEOUT + 1 s: it gets its outcome, `pending`, or — sent while Redis was down — `503` naming Redis.
Every accepted job completes, and its result, written after the restart, is what `GET /tasks/{id}` shows.
"""

import asyncio

import httpx
from redis import Redis

from taskgate_contracts import TaskState, TaskView
from testkit.servers import OwnRedis
from tests.chaos.conftest import Stack
from tests.chaos.faults import note_fault
from tests.chaos.ledger import Ledger, wait_until_settled
from tests.chaos.load import Load

TASK_TIMEOUT = 4
CLIENTS = 30
RATE = 10.0
DELAY = 1.0
#: Seconds into the load when Redis goes down, and for how long.
DOWN_AT = 1.0
DOWN_FOR = 2.0
SETTLE = 60.0


async def test_redis_restart(stack: Stack, ledger: Ledger, own_redis: OwnRedis, redis_client: Redis) -> None:
    stack.worker("worker", concurrency=2)
    api = stack.api(task_timeout=TASK_TIMEOUT)
    load = Load(api.url, timeout=TASK_TIMEOUT + 10)

    async def restart() -> None:
        await asyncio.sleep(DOWN_AT)
        note_fault(ledger, f"Redis stopped for {DOWN_FOR:g} s, then started", load.elapsed(), redis_client)
        await asyncio.to_thread(own_redis.stop)
        await asyncio.sleep(DOWN_FOR)
        await asyncio.to_thread(own_redis.start)

    try:
        async with asyncio.TaskGroup() as chaos:
            chaos.create_task(load.burst(CLIENTS, RATE, "/process", {"delay": DELAY}))
            chaos.create_task(restart())
        ledger.answers = load.answers
        ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=SETTLE)
        views = [await load.client.get(f"/tasks/{task_id}") for task_id in sorted(ledger.accepted)]
    finally:
        await load.aclose()

    slowest = max(ledger.answers, key=lambda a: a.seconds)
    assert slowest.seconds <= TASK_TIMEOUT + 1, slowest
    assert {a.status for a in ledger.answers} <= {200, 202, 503}, ledger.answers
    assert all("Redis" in a.detail for a in ledger.refused), ledger.refused
    assert ledger.accepted, "no request was accepted"
    assert [
        TaskView.model_validate_json(view.content).status
        for view in views
        if view.status_code == httpx.codes.OK
    ] == [TaskState.COMPLETED] * len(ledger.accepted), [view.text for view in views]
    assert ledger.problems() == []
