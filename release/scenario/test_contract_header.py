"""A message written on a newer major contract than the worker's lands in the dead-letter queue, intact,
and the worker says why and goes on serving."""

import time
from typing import Any
from uuid import uuid4

import httpx
from celery import Celery
from redis import Redis

from taskgate_contracts import __version__
from taskgate_contracts.builtin import PROCESS
from taskgate_contracts.messages import CONTRACT_VERSION_HEADER
from taskgate_contracts.storage import result_key
from taskgate_ops.topology import dead_letter_name
from testkit.infrastructure import (
    AMQP_PORT,
    HOST,
    MANAGEMENT_URL,
    RABBITMQ_PASSWORD,
    RABBITMQ_USER,
    REDIS_URL,
    TaskKeys,
)
from testkit.processes import Service, wait_until

WAIT = 30.0


def publish(vhost: str, task_id: str, contract: str) -> None:
    producer = Celery(broker=f"amqp://{RABBITMQ_USER}:{RABBITMQ_PASSWORD}@{HOST}:{AMQP_PORT}/{vhost}")
    try:
        producer.send_task(
            PROCESS.task_name,
            kwargs={"delay": 0},
            queue=PROCESS.queue,
            task_id=task_id,
            headers={CONTRACT_VERSION_HEADER: contract},
        )
    finally:
        producer.close()


def dead_letters(vhost: str) -> list[dict[str, Any]]:
    """The messages in the dead-letter queue, left in place."""
    response = httpx.post(
        f"{MANAGEMENT_URL}/api/queues/{vhost}/{dead_letter_name(PROCESS.queue)}/get",
        json={"count": 10, "ackmode": "ack_requeue_true", "encoding": "auto"},
        auth=(RABBITMQ_USER, RABBITMQ_PASSWORD),
        timeout=10.0,
    )
    response.raise_for_status()
    messages: list[dict[str, Any]] = response.json()
    return messages


def test_a_message_of_a_newer_major_contract_is_dead_lettered_and_the_worker_goes_on(
    topology_vhost: str, topology_worker: Service, task_ids: TaskKeys
) -> None:
    refused, readable = str(uuid4()), str(uuid4())
    task_ids.add(refused)
    task_ids.add(readable)

    publish(topology_vhost, refused, "99.0.0")
    publish(topology_vhost, readable, __version__)

    redis = Redis.from_url(REDIS_URL)
    try:
        wait_until(
            "the readable task's result", lambda: redis.exists(result_key(readable)) == 1, [topology_worker]
        )
        assert redis.exists(result_key(refused)) == 0
    finally:
        redis.close()
    deadline = time.monotonic() + WAIT
    while not (letters := dead_letters(topology_vhost)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [letter["properties"]["headers"]["id"] for letter in letters] == [refused]
    headers = letters[0]["properties"]["headers"]
    assert headers[CONTRACT_VERSION_HEADER] == "99.0.0"
    assert headers["x-death"][0]["reason"] == "rejected"
    log = topology_worker.log_tail()
    assert f"task {PROCESS.task_name}[{refused}] rejected to the dead-letter queue" in log
    assert f"written with contract 99.0.0, a newer major version than this worker's {__version__}" in log
