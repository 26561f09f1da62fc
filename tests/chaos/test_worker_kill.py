"""Fault 1: `kill -9` of a worker's pool process, then of the whole worker, in the middle of a burst.

Two workers of two processes each share the queue. Clients post 500 jobs at a steady rate and wait for
each. While the dead worker is restarted the other carries on: no job is lost, none runs twice unless it
was in flight at a kill, and no client sees a 5xx.
"""

import asyncio

from redis import Redis

from tests.chaos.conftest import Stack
from tests.chaos.faults import kill_pool_child, kill_worker, note_fault
from tests.chaos.ledger import Ledger, read_runs, wait_until_settled
from tests.chaos.load import Load

JOBS = 500
#: Requests a second: faster than two workers drain 0.2 s jobs, so a backlog builds up.
RATE = 40.0
DELAY = 0.2
TASK_TIMEOUT = 5
#: Seconds the remaining worker gets to drain the backlog once the burst is over.
SETTLE = 120.0


async def _finished(redis: Redis, count: int) -> None:
    while len((await asyncio.to_thread(read_runs, redis)).final) < count:
        await asyncio.sleep(0.1)


async def test_worker_kill(stack: Stack, ledger: Ledger, redis_client: Redis) -> None:
    doomed = stack.worker("worker-1", concurrency=2)
    stack.worker("worker-2", concurrency=2)
    api = stack.api(task_timeout=TASK_TIMEOUT)
    load = Load(api.url, timeout=TASK_TIMEOUT + 10)

    async def faults() -> None:
        await _finished(redis_client, JOBS // 5)
        kill_pool_child(doomed)
        note_fault(ledger, "kill -9 of a pool process of worker-1", load.elapsed(), redis_client)
        await _finished(redis_client, 2 * JOBS // 5)
        kill_worker(doomed)
        note_fault(ledger, "kill -9 of worker-1 and its pool", load.elapsed(), redis_client)
        # As an orchestrator would, once it notices; worker-2 carries on meanwhile.
        await asyncio.to_thread(stack.worker, "worker-1-restarted", 2)

    try:
        async with asyncio.TaskGroup() as chaos:
            chaos.create_task(load.burst(JOBS, RATE, "/process", {"delay": DELAY}))
            chaos.create_task(faults())
    finally:
        await load.aclose()
    ledger.answers = load.answers
    ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=SETTLE)

    unanswered = [a for a in ledger.answers if a.status not in (200, 202)]
    assert unanswered == [], f"{len(unanswered)} request(s) not accepted, first: {unanswered[:3]}"
    assert ledger.problems() == []
    assert len(ledger.duplicated) <= len(ledger.in_flight_at_faults)
