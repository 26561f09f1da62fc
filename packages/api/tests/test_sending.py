"""What the api puts on the wire when it sends a task, read back from a real RabbitMQ.

Each test gets a virtual host of its own (made and removed through the management API), so it meets
no other test's queues. Without RabbitMQ on this machine the tests skip; under CI they fail.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import httpx
import pytest
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message

from taskgate_api.config import ApiSettings
from taskgate_api.errors import ServiceUnavailableError
from taskgate_api.sending import TaskSender, create_producer
from taskgate_contracts import PROCESS, ProcessArgs, __version__
from taskgate_contracts.messages import CONTRACT_VERSION_HEADER

MANAGEMENT = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")


@pytest.fixture
def vhost() -> Iterator[str]:
    name = f"taskgate-api-test-{uuid4().hex[:10]}"
    try:
        httpx.put(f"{MANAGEMENT}/vhosts/{name}", auth=AUTH, timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"RabbitMQ's management API is needed at {MANAGEMENT}: {exc}")
        pytest.skip(f"RabbitMQ's management API is not reachable at {MANAGEMENT}: {exc}")
    permissions = {"configure": ".*", "write": ".*", "read": ".*"}
    httpx.put(
        f"{MANAGEMENT}/permissions/{name}/guest", json=permissions, auth=AUTH, timeout=10
    ).raise_for_status()
    yield name
    httpx.delete(f"{MANAGEMENT}/vhosts/{name}", auth=AUTH, timeout=10)


@pytest.fixture
def settings(vhost: str) -> ApiSettings:
    return ApiSettings(_env_file=None, rabbitmq_vhost=vhost, publish_timeout=2)


@pytest.fixture
async def sender(settings: ApiSettings) -> AsyncIterator[TaskSender]:
    sender = TaskSender(create_producer(settings), settings)
    yield sender
    await sender.close()


def management() -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=MANAGEMENT, auth=AUTH, timeout=10)


def received(settings: ApiSettings) -> Message:
    with Connection(settings.broker_url) as connection:
        message: Message | None = Queue(PROCESS.queue)(connection.default_channel).get(no_ack=True)
    assert message is not None, "nothing was sent"
    return message


async def test_a_sent_task_is_a_celery_message_naming_its_contract(
    sender: TaskSender, settings: ApiSettings
) -> None:
    await sender.send(PROCESS, ProcessArgs(delay=1), task_id="task-1")

    message = received(settings)
    assert message.headers[CONTRACT_VERSION_HEADER] == __version__
    assert message.headers["task"] == PROCESS.name
    assert message.headers["id"] == "task-1"
    assert message.content_type == "application/json"
    assert message.properties["delivery_mode"] == 2  # persistent: it survives a broker restart
    args, kwargs, _embed = message.decode()
    assert (args, kwargs) == ([], {"delay": 1.0})


async def test_a_full_queue_is_refused_as_unavailable(sender: TaskSender, vhost: str) -> None:
    definition = {"max-length": 1, "overflow": "reject-publish"}
    policy = {"pattern": f"^{PROCESS.queue}$", "apply-to": "queues", "definition": definition}
    async with management() as api:
        (await api.put(f"/policies/{vhost}/full", json=policy)).raise_for_status()
    await asyncio.sleep(0.5)  # policies reach queues asynchronously
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="fits")
    with pytest.raises(ServiceUnavailableError, match="queue is full") as refused:
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="does-not-fit")
    assert refused.value.service == "rabbitmq"


async def test_a_dropped_connection_is_replaced_without_an_error(sender: TaskSender, vhost: str) -> None:
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="before")
    async with management() as api:
        for connection in (await api.get(f"/vhosts/{vhost}/connections")).json():
            await api.delete(f"/connections/{connection['name']}")
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="after")


async def test_a_slow_confirmation_fails_one_send_and_keeps_the_connection(
    sender: TaskSender, settings: ApiSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="before")
    channel = sender._channel
    assert channel is not None
    publish = channel.basic_publish

    async def unconfirmed(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(10)

    monkeypatch.setattr(channel, "basic_publish", unconfirmed)
    with pytest.raises(ServiceUnavailableError, match="no confirmation within 2 s"):
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="slow")
    # The shared channel stays: closing it would have failed every other send in flight on it.
    monkeypatch.setattr(channel, "basic_publish", publish)
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="after")
    assert sender._channel is channel


async def test_an_unreachable_broker_is_unavailable_at_once() -> None:
    settings = ApiSettings(_env_file=None, port_amqp=1, publish_timeout=2)
    sender = TaskSender(create_producer(settings), settings)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match=r"RabbitMQ is unreachable at 127\.0\.0\.1:1"):
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="nowhere")
    assert time.monotonic() - started < 2
    await sender.close()
