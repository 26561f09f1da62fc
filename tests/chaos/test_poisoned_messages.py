"""Fault 6: messages nobody should have sent, published straight to the task queue.

Each goes to the dead-letter queue intact, with a line in the worker's log saying why, and the worker
keeps serving the jobs clients send before and after them.
"""

import asyncio
import pickle
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Producer
from redis import Redis

from taskgate_contracts.builtin import PROCESS
from taskgate_ops.topology import dead_letter_name
from testkit.infrastructure import AMQP_PORT, HOST, RABBITMQ_PASSWORD, RABBITMQ_USER
from tests.chaos.conftest import Stack
from tests.chaos.faults import note_fault
from tests.chaos.ledger import Ledger, wait_until_settled
from tests.chaos.load import Load

JSON = "application/json"
VALID_JOBS = 10
WAIT = 20.0


@dataclass(frozen=True)
class Poison:
    body: bytes
    #: What the worker's log line must say about it.
    reason: str
    content_type: str = JSON
    task: str | None = PROCESS.task_name

    def headers(self) -> dict[str, str]:
        return {} if self.task is None else {"task": self.task, "id": str(uuid.uuid4())}


class _Payload:
    """Pickled as a call to `print`: harmless, but a worker that unpickled it would run it."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return print, ("unpickled!",)


POISONS = {
    "malformed body": Poison(b'[[], {"delay": 1}', f"the body is not valid {JSON}"),
    "unknown task name": Poison(
        b'[[], {"delay": 1}, {}]', "unknown task name 'taskgate.mine'", task="taskgate.mine"
    ),
    "wrong argument types": Poison(
        b'[[], {"delay": "soon"}, {}]', f"invalid arguments for {PROCESS.task_name}: delay: Input should be"
    ),
    "pickle payload": Poison(
        pickle.dumps(_Payload()),
        "content type 'application/x-python-serialize' is not accepted",
        content_type="application/x-python-serialize",
    ),
    "not a task message": Poison(b"hello", "not a task message", content_type="text/plain", task=None),
}


@pytest.fixture
def broker(vhost: str) -> Iterator[Connection]:
    url = f"amqp://{RABBITMQ_USER}:{RABBITMQ_PASSWORD}@{HOST}:{AMQP_PORT}/{vhost}"
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        yield connection


def _publish(broker: Connection, poison: Poison) -> None:
    producer = Producer(broker, exchange=Exchange(PROCESS.queue, type="direct"))
    producer.publish(
        poison.body,
        routing_key=PROCESS.queue,
        content_type=poison.content_type,
        content_encoding="binary" if poison.content_type != JSON else "utf-8",
        headers=poison.headers(),
    )


def _depth(broker: Connection, queue: str) -> int:
    _, count, _ = broker.default_channel.queue_declare(queue=queue, passive=True)
    return int(count)


def _drain(broker: Connection, queue: str) -> list[Any]:
    messages = []
    while (message := broker.default_channel.basic_get(queue, no_ack=True)) is not None:
        messages.append(message)
    return messages


def _raw_body(message: Any) -> bytes:
    # py-amqp hands a body with a text encoding back decoded.
    body = message.body
    return body if isinstance(body, bytes) else str(body).encode()


async def test_poisoned_messages(
    stack: Stack, ledger: Ledger, redis_client: Redis, broker: Connection
) -> None:
    worker = stack.worker("worker", concurrency=1)
    api = stack.api(task_timeout=WAIT)
    load = Load(api.url, timeout=WAIT + 10)
    try:
        await load.burst(VALID_JOBS // 2, 50.0, "/process", {"delay": 0})
        for kind, poison in POISONS.items():
            _publish(broker, poison)
            note_fault(ledger, f"{kind} published to the queue", load.elapsed(), redis_client)
        await load.burst(VALID_JOBS - VALID_JOBS // 2, 50.0, "/process", {"delay": 0})
    finally:
        await load.aclose()
    ledger.answers = load.answers
    ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=WAIT)

    dead_letters = dead_letter_name(PROCESS.queue)
    deadline = time.monotonic() + WAIT
    while _depth(broker, dead_letters) < len(POISONS) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    dead = _drain(broker, dead_letters)
    ledger.notes.append(f"{len(dead)} message(s) in the dead-letter queue, {len(POISONS)} poisoned")
    assert sorted(map(_raw_body, dead)) == sorted(p.body for p in POISONS.values())
    for message in dead:
        (death, *_) = message.headers["x-death"]
        assert (death["reason"], death["queue"]) == ("rejected", PROCESS.queue)
    assert _depth(broker, PROCESS.queue) == 0

    log = worker.log_tail()
    for kind, poison in POISONS.items():
        assert f"poisoned message sent to the dead-letter queue: {poison.reason}" in log, kind
    assert "unpickled!" not in log
    assert [a.status for a in ledger.answers] == [200] * VALID_JOBS
    assert ledger.problems() == []
