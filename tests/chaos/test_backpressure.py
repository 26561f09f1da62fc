"""Fault 4: a flood while no worker runs, against a queue limited to N messages.

The limit is the `max-length` policy with `overflow: reject-publish` that ops bootstraps, lowered to N:
RabbitMQ refuses (nacks) every publish past N, and the api answers those requests `503` with
`Retry-After` at once. Nothing is dropped silently: every accepted job runs once a worker comes, no
refused one ever does, and the queue never holds more than N.
"""

import asyncio
import threading
from collections.abc import Iterator

import pytest
from kombu.connection import Connection
from redis import Redis

from taskgate_contracts.builtin import PROCESS
from taskgate_ops.management import ManagementApi, segment
from taskgate_ops.topology import build_topology
from testkit.infrastructure import AMQP_PORT, HOST, MANAGEMENT_URL, RABBITMQ_PASSWORD, RABBITMQ_USER
from tests.chaos.conftest import CHAOS_TYPES, Stack
from tests.chaos.ledger import Ledger, wait_until_settled
from tests.chaos.load import Load

LIMIT = 20
REQUESTS = 60
#: Seconds within which a refusal must come: the api must not wait for room in the queue.
AT_ONCE = 1.0
SETTLE = 30.0


@pytest.fixture
def limited_queue(vhost: str) -> str:
    """The queue's policy as ops renders it, with the length limit lowered to LIMIT."""
    (policy,) = build_topology(vhost, CHAOS_TYPES).policies
    body = policy.body()
    body["definition"]["max-length"] = LIMIT
    with ManagementApi(MANAGEMENT_URL, RABBITMQ_USER, RABBITMQ_PASSWORD) as api:
        api.put(f"/policies/{segment(vhost)}/{segment(policy.name)}", body)
    return vhost


class DepthWatch:
    """Reads the queue's length over AMQP (exact, unlike the management API's sampled figure) in a thread."""

    def __init__(self, vhost: str) -> None:
        self._url = f"amqp://{RABBITMQ_USER}:{RABBITMQ_PASSWORD}@{HOST}:{AMQP_PORT}/{vhost}"
        self._stop = threading.Event()
        self.depths: list[int] = []
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with Connection(self._url) as connection:
            channel = connection.default_channel
            while not self._stop.is_set():
                _, depth, _ = channel.queue_declare(queue=PROCESS.queue, passive=True)
                self.depths.append(int(depth))
                self._stop.wait(0.01)

    def __enter__(self) -> "DepthWatch":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def depth(limited_queue: str) -> Iterator[DepthWatch]:
    with DepthWatch(limited_queue) as watch:
        yield watch


async def test_backpressure(stack: Stack, ledger: Ledger, redis_client: Redis, depth: DepthWatch) -> None:
    api = stack.api(task_timeout=5)
    load = Load(api.url, timeout=30)
    try:
        await load.burst(REQUESTS, 50.0, "/tasks", {"delay": 0})
    finally:
        await load.aclose()
    ledger.answers = load.answers
    await asyncio.sleep(0.2)  # a last reading of the full queue
    queued_at_most = max(depth.depths)

    stack.worker("worker", concurrency=2)
    ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=SETTLE)

    assert [a.status for a in ledger.answers].count(202) == LIMIT
    refused = ledger.refused
    assert len(refused) == REQUESTS - LIMIT, [a for a in ledger.answers if a.status not in (202, 503)][:3]
    assert all(a.retry_after for a in refused), refused[:3]
    # RabbitMQ answered; it refused the work. Saying it is unreachable would send an operator astray.
    misleading = [a.detail for a in refused if "full" not in a.detail]
    assert misleading == [], f"{len(misleading)} refusal(s) do not say the queue is full: {misleading[:1]}"
    ledger.notes.append(
        f"queue held at most {queued_at_most} (limit {LIMIT}); "
        f"slowest refusal {max(a.seconds for a in refused):.3f} s"
    )
    slow = [a for a in refused if a.seconds > AT_ONCE]
    assert slow == [], f"{len(slow)} refusal(s) took over {AT_ONCE} s: {slow[:3]}"
    assert queued_at_most == LIMIT
    assert ledger.problems() == []
