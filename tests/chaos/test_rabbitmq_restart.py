"""Fault 2: RabbitMQ restarts in the middle of a burst (a node of the test's own, never the machine's).

Every request is either accepted — RabbitMQ confirmed the publish — and its job later completes, or
refused at once with `503` and `Retry-After`. Once the node is back, the api and the worker reconnect by
themselves, with no restart, within 30 s.
"""

import asyncio
import time

from redis import Redis

from testkit.servers import OwnRabbitMQ
from tests.chaos.conftest import Stack
from tests.chaos.faults import note_fault
from tests.chaos.ledger import Answer, Ledger, first_start_after, wait_until_settled
from tests.chaos.load import Load

JOBS = 400
RATE = 20.0
DELAY = 0.1
TASK_TIMEOUT = 5
#: The api's PUBLISH_TIMEOUT: how long it tries to reach RabbitMQ before answering 503.
PUBLISH_TIMEOUT = 1.0
#: Seconds within which a refusal must come: the publish timeout and its retries, with some slack.
REFUSED_WITHIN = 3 * PUBLISH_TIMEOUT + 1
RESTART_AT = 3.0
RECONNECT_WITHIN = 30.0
SETTLE = 90.0


async def _first_accepted(load: Load, within: float) -> Answer:
    """Submit a job every half second until one is accepted; fail after `within` seconds."""
    deadline = load.elapsed() + within
    answer = await load.request("/tasks", {"delay": 0})
    while answer.status != 202:
        assert load.elapsed() < deadline, f"the api did not reconnect to RabbitMQ: {answer}"
        await asyncio.sleep(0.5)
        answer = await load.request("/tasks", {"delay": 0})
    return answer


async def test_rabbitmq_restart(
    own_broker_stack: Stack, ledger: Ledger, own_rabbitmq: OwnRabbitMQ, redis_client: Redis
) -> None:
    own_broker_stack.worker("worker", concurrency=2)
    api = own_broker_stack.api(task_timeout=TASK_TIMEOUT, publish_timeout=PUBLISH_TIMEOUT)
    load = Load(api.url, timeout=TASK_TIMEOUT + 3 * REFUSED_WITHIN)
    #: When the node was back: seconds into the load, and the wall clock (which Redis stamps events with).
    back_at: list[tuple[float, float]] = []

    async def restart() -> None:
        await asyncio.sleep(RESTART_AT)
        stopping_at = load.elapsed()
        await asyncio.to_thread(own_rabbitmq.stop)
        # Noted once the node is down: what runs until the connections close may be redelivered too.
        note_fault(ledger, "RabbitMQ stopped (rabbitmqctl stop), then started", stopping_at, redis_client)
        await asyncio.to_thread(own_rabbitmq.start)
        back_at.append((load.elapsed(), time.time()))

    try:
        async with asyncio.TaskGroup() as chaos:
            chaos.create_task(load.burst(JOBS, RATE, "/process", {"delay": DELAY}))
            chaos.create_task(restart())
        # The burst may end before the node is back; then the api is asked until it accepts.
        await _first_accepted(load, RECONNECT_WITHIN)
        ledger.answers = load.answers
        ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=SETTLE)
    finally:
        await load.aclose()
    ((broker_back, broker_back_clock),) = back_at
    api_back = min(a.sent_at for a in ledger.answers if a.task_id and a.sent_at >= broker_back) - broker_back
    worker_back = first_start_after(redis_client, broker_back_clock) - broker_back_clock
    ledger.notes.append(
        f"node back at {broker_back:.1f} s; the api accepted again {api_back:.1f} s later, "
        f"the worker started jobs again {worker_back:.1f} s later"
    )

    assert api_back <= RECONNECT_WITHIN
    assert worker_back <= RECONNECT_WITHIN
    assert {a.status for a in ledger.answers} <= {200, 202, 503}, ledger.answers
    slow = [a for a in ledger.refused if a.seconds > REFUSED_WITHIN or not a.retry_after]
    assert slow == [], f"{len(slow)} refusal(s) slow or without Retry-After: {slow[:3]}"
    assert ledger.problems() == []
    assert ledger.duplicated <= ledger.in_flight_at_faults
