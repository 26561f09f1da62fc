"""Fault 5: SIGTERM, the way an orchestrator stops a service.

A worker lets its running job finish before it exits and leaves the jobs it had not started in the
queue. The api answers every client still waiting — `pending`, with the task id to follow — before it
exits; the jobs carry on.
"""

import asyncio
import signal
import time

from redis import Redis

from taskgate_contracts.storage import record_key
from testkit.processes import Service
from tests.chaos.conftest import Stack
from tests.chaos.faults import note_fault
from tests.chaos.ledger import Ledger, read_runs, wait_until_settled
from tests.chaos.load import Load

LONG_JOB = 3.0
#: Seconds a stopping service may take to exit, on top of the job it lets finish.
EXIT_WITHIN = 10.0
#: Seconds within which the api answers its waiting clients once told to stop.
ANSWERED_WITHIN = 2.0
WAITERS = 4
SETTLE = 30.0


async def _exit_code(service: Service, within: float) -> int:
    return await asyncio.to_thread(service.process.wait, within)


async def test_worker_sigterm(stack: Stack, ledger: Ledger, redis_client: Redis) -> None:
    stopping = stack.worker("worker-1", concurrency=1)
    api = stack.api(task_timeout=30)
    load = Load(api.url, timeout=30)
    try:
        running_job = await load.request("/tasks", {"delay": LONG_JOB})
        queued_job = await load.request("/tasks", {"delay": 0})
        while running_job.task_id not in read_runs(redis_client).starts:
            await asyncio.sleep(0.05)
        stopping.process.send_signal(signal.SIGTERM)
        note_fault(ledger, "SIGTERM to worker-1", load.elapsed(), redis_client)
        assert await _exit_code(stopping, LONG_JOB + EXIT_WITHIN) == 0
        ledger.notes.append(f"worker-1 exited at {load.elapsed():.1f} s, after its {LONG_JOB:g} s job")

        at_exit = read_runs(redis_client)
        assert at_exit.final.get(running_job.task_id) == "SUCCESS", "the running job did not finish first"
        assert queued_job.task_id not in at_exit.starts, "the stopping worker took a job it did not finish"

        stack.worker("worker-2", concurrency=1)
        ledger.answers = load.answers
        ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=SETTLE)
    finally:
        await load.aclose()
    assert [a.status for a in ledger.answers] == [202, 202]
    assert ledger.problems() == []
    assert ledger.duplicated == set()


async def test_api_sigterm(stack: Stack, ledger: Ledger, redis_client: Redis) -> None:
    stack.worker("worker", concurrency=2)
    stopping = stack.api(task_timeout=30)
    load = Load(stopping.url, timeout=30)
    try:
        waiting = [asyncio.create_task(load.request("/process", {"delay": LONG_JOB})) for _ in range(WAITERS)]
        # Every request has been received and its task recorded: the clients are waiting now.
        while len(list(redis_client.scan_iter(record_key("*")))) < WAITERS:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        signalled = time.monotonic()
        stopping.process.send_signal(signal.SIGTERM)
        note_fault(ledger, "SIGTERM to the api", load.elapsed(), redis_client)
        answers = await asyncio.gather(*waiting)
        answered_after = max(a.sent_at + a.seconds for a in answers) - (signalled - load.started)
        # uvicorn re-raises the signal once it has shut down, so its parent sees why it ended.
        assert await _exit_code(stopping, EXIT_WITHIN) in (0, -signal.SIGTERM)
    finally:
        await load.aclose()
    ledger.answers = load.answers
    ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=SETTLE)

    ledger.notes.append(f"the waiting clients were answered within {answered_after:.3f} s of SIGTERM")
    assert [(a.status, a.detail) for a in answers] == [(202, "pending")] * WAITERS
    assert all(a.task_id for a in answers)
    assert 0 <= answered_after <= ANSWERED_WITHIN
    assert "Application shutdown complete." in stopping.log_tail()
    assert ledger.problems() == []
