"""What the api puts on the wire when it sends a task, read back from Celery's in-memory broker."""

from collections.abc import Iterator
from uuid import uuid4

import pytest
from celery import Celery
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message

from taskgate_api.config import ApiSettings
from taskgate_api.sending import TaskSender, create_producer
from taskgate_contracts import PROCESS, ProcessArgs, __version__
from taskgate_contracts.messages import CONTRACT_VERSION_HEADER


@pytest.fixture
def producer() -> Iterator[Celery]:
    producer = create_producer(ApiSettings(_env_file=None))
    # Each test its own virtual host of the in-memory transport, which is shared by the whole process.
    producer.conf.broker_url = f"memory://localhost/{uuid4().hex}"
    yield producer
    producer.close()


def received(producer: Celery) -> Message:
    with Connection(producer.conf.broker_url) as connection:
        message: Message | None = Queue(PROCESS.queue)(connection.default_channel).get(no_ack=True)
    assert message is not None, "nothing was sent"
    return message


async def test_a_task_message_names_the_contract_version_it_was_written_with(producer: Celery) -> None:
    sender = TaskSender(producer, ApiSettings(_env_file=None))

    await sender.send(PROCESS, ProcessArgs(delay=1), task_id="task-1")

    message = received(producer)
    assert message.headers[CONTRACT_VERSION_HEADER] == __version__
    assert message.headers["task"] == PROCESS.name
    assert message.headers["id"] == "task-1"
