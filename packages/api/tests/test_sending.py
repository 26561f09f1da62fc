"""What the api puts on the wire when it sends a task, read back from a real RabbitMQ.

Each test gets a virtual host of its own (the `vhost` fixture), so it meets no other test's queues.
"""

import asyncio
import base64
import socket
import time
from collections.abc import AsyncIterator, Callable

import aiormq
import httpx
import pytest
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message
from pamqp.commands import Basic

from taskgate_api.config import ApiSettings
from taskgate_api.engine.errors import ServiceUnavailableError
from taskgate_api.engine.sending import TaskSender, create_producer
from taskgate_contracts import Registry, __version__, discover
from taskgate_contracts.builtin.process import PROCESS, ProcessArgs
from taskgate_contracts.builtin.thumbnail import THUMBNAIL, ThumbnailArgs
from taskgate_contracts.messages import CONTRACT_VERSION_HEADER

Management = Callable[[], httpx.AsyncClient]


def queues_of(registry: Registry) -> list[str]:
    return list(registry.queues())


@pytest.fixture
def settings(vhost: str) -> ApiSettings:
    return ApiSettings(_env_file=None, rabbitmq_vhost=vhost, publish_timeout=2)


@pytest.fixture
async def sender(settings: ApiSettings) -> AsyncIterator[TaskSender]:
    queues = queues_of(discover())
    sender = TaskSender(create_producer(settings, queues), settings, queues)
    yield sender
    await sender.close()


def received(settings: ApiSettings, queue: str) -> Message:
    with Connection(settings.broker_url) as connection:
        message: Message | None = Queue(queue)(connection.default_channel).get(no_ack=True)
    assert message is not None, f"nothing was sent to {queue}"
    return message


async def test_a_sent_task_is_a_celery_message_naming_its_contract(
    sender: TaskSender, settings: ApiSettings
) -> None:
    await sender.send(PROCESS, ProcessArgs(delay=1), task_id="task-1")

    message = received(settings, "taskgate")  # the queue every release has sent the seed's job to
    assert message.headers[CONTRACT_VERSION_HEADER] == __version__
    assert message.headers["task"] == "taskgate.process"
    assert message.headers["id"] == "task-1"
    assert message.content_type == "application/json"
    assert message.properties["delivery_mode"] == 2  # persistent: it survives a broker restart
    assert message.properties["correlation_id"] == "task-1"
    args, kwargs, _embed = message.decode()
    assert (args, kwargs) == ([], {"delay": 1.0})


async def test_a_type_s_task_goes_to_its_own_queue_with_its_arguments_as_json(
    sender: TaskSender, settings: ApiSettings
) -> None:
    image = bytes(range(256)) * 8  # 2 KiB: its base64 form is longer than a header should show
    await sender.send(THUMBNAIL, ThumbnailArgs(image=base64.b64encode(image), width=64, height=32), "thumb-1")

    message = received(settings, "taskgate.thumbnail")
    assert message.headers["task"] == "taskgate.thumbnail"
    _, kwargs, _ = message.decode()
    assert base64.b64decode(kwargs["image"]) == image
    assert (kwargs["width"], kwargs["height"]) == (64, 32)
    # What Flower shows of the arguments is cut short (Celery's safe repr, about 1 KB): a header must fit
    # in one AMQP frame, and a whole image would not.
    shown = message.headers["kwargsrepr"]
    assert shown.startswith("{'image': '")
    assert "..." in shown
    assert len(shown) < 1100 < len(kwargs["image"])


async def test_a_queue_nobody_declared_is_unavailable_not_lost(settings: ApiSettings) -> None:
    # A sender told only of the seed's queue: the thumbnail queue does not exist in this fresh vhost, and
    # RabbitMQ returns the unroutable message instead of dropping it.
    sender = TaskSender(create_producer(settings, ["taskgate"]), settings, ["taskgate"])
    image = base64.b64encode(b"not really a png")
    with pytest.raises(ServiceUnavailableError, match=r"no queue 'taskgate\.thumbnail'") as refused:
        await sender.send(THUMBNAIL, ThumbnailArgs(image=image, width=1, height=1), "lost")
    assert refused.value.service == "rabbitmq"
    await sender.close()


async def test_a_full_queue_is_refused_as_unavailable(
    sender: TaskSender, vhost: str, management: Management
) -> None:
    definition = {"max-length": 1, "overflow": "reject-publish"}
    policy = {"pattern": f"^{PROCESS.queue}$", "apply-to": "queues", "definition": definition}
    async with management() as api:
        (await api.put(f"/policies/{vhost}/full", json=policy)).raise_for_status()
    await asyncio.sleep(0.5)  # policies reach queues asynchronously
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="fits")
    with pytest.raises(ServiceUnavailableError, match="queue is full") as refused:
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="does-not-fit")
    assert refused.value.service == "rabbitmq"


async def test_a_dropped_connection_is_replaced_without_an_error(
    sender: TaskSender, vhost: str, management: Management
) -> None:
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
    sender = TaskSender(create_producer(settings, ["taskgate"]), settings, ["taskgate"])
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match=r"RabbitMQ is unreachable at 127\.0\.0\.1:1"):
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="nowhere")
    assert time.monotonic() - started < 2
    await sender.close()


async def test_a_dead_node_is_passed_over_for_the_next() -> None:
    settings = ApiSettings(_env_file=None, rabbitmq_hosts="127.0.0.1:1,127.0.0.1:5672", publish_timeout=2)
    sender = TaskSender(create_producer(settings, ["taskgate"]), settings, ["taskgate"])
    try:
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="via-the-second-node")
    finally:
        await sender.close()
    assert received(settings, "taskgate").headers["id"] == "via-the-second-node"


async def test_a_silent_node_takes_only_its_share_of_the_publish_timeout(settings: ApiSettings) -> None:
    # A node that accepts the connection and then says nothing, like one whose packets are dropped.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        cluster = settings.model_copy(update={"rabbitmq_hosts": f"127.0.0.1:{port},127.0.0.1:5672"})
        sender = TaskSender(create_producer(cluster, ["taskgate"]), cluster, ["taskgate"])
        started = time.monotonic()
        try:
            await sender.send(PROCESS, ProcessArgs(delay=0), task_id="past-the-silent-node")
        finally:
            await sender.close()
    assert time.monotonic() - started < settings.publish_timeout
    assert received(settings, "taskgate").headers["id"] == "past-the-silent-node"


async def test_no_node_answering_is_unavailable_naming_each() -> None:
    settings = ApiSettings(_env_file=None, rabbitmq_hosts="127.0.0.1:1,127.0.0.1:2", publish_timeout=2)
    sender = TaskSender(create_producer(settings, ["taskgate"]), settings, ["taskgate"])
    with pytest.raises(ServiceUnavailableError, match=r"127\.0\.0\.1:1: .*; 127\.0\.0\.1:2: "):
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="nowhere")
    await sender.close()


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
async def test_task_queues_are_declared_with_the_configured_type(
    settings: ApiSettings, vhost: str, management: Management, queue_type: str
) -> None:
    typed = settings.model_copy(update={"rabbitmq_queue_type": queue_type})
    sender = TaskSender(create_producer(typed, ["taskgate"]), typed, ["taskgate"])
    try:
        await sender.send(PROCESS, ProcessArgs(delay=0), task_id="typed")
    finally:
        await sender.close()
    async with management() as api:
        queue = (await api.get(f"/queues/{vhost}/taskgate")).json()
    assert queue["type"] == queue_type
    assert received(settings, "taskgate").headers["id"] == "typed"


async def test_a_nacking_channel_is_replaced_and_the_task_sent_again(
    sender: TaskSender, settings: ApiSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a quorum queue's channel opened during a leader election goes on nacking everything.
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="before")
    stuck = sender._channel
    assert stuck is not None

    async def nacked(*args: object, **kwargs: object) -> None:
        raise aiormq.exceptions.DeliveryError(None, Basic.Nack(delivery_tag=1))

    monkeypatch.setattr(stuck, "basic_publish", nacked)
    await sender.send(PROCESS, ProcessArgs(delay=0), task_id="on-a-fresh-channel")
    assert sender._channel is not stuck
    await asyncio.sleep(0.1)  # the retired channel is closed in the background
    assert stuck.is_closed
    ids = [received(settings, "taskgate").headers["id"] for _ in range(2)]
    assert ids == ["before", "on-a-fresh-channel"]
