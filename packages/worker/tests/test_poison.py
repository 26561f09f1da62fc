"""Poisoned messages are refused before they run: rejected without requeue, logged, and marked failed."""

import json
import logging
import pickle
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from celery import Celery, states
from celery.result import AsyncResult
from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.message import Message
from kombu.messaging import Producer

from taskgate_contracts import Handler, Registry
from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.builtin.thumbnail import THUMBNAIL
from taskgate_contracts.messages import CONTRACT_VERSION_HEADER
from taskgate_contracts.storage import events_key, record_key, result_key
from taskgate_worker.config import WorkerSettings
from taskgate_worker.factory import create_app
from taskgate_worker.hosting import plan
from taskgate_worker.poison import DeadLetteringConsumer, poison_reason
from taskgate_worker.tasks.process import process
from taskgate_worker.tasks.thumbnail import make_thumbnail

WAIT = 10
JSON = "application/json"
PICKLE = "application/x-python-serialize"
#: A 1x1 PNG, base64-encoded.
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="

#: Filled only if something unpickles a payload built by `_Booby`.
UNPICKLED: list[bool] = []


def _record_unpickling() -> None:
    UNPICKLED.append(True)


class _Booby:
    def __reduce__(self) -> tuple[Callable[[], None], tuple[()]]:
        return _record_unpickling, ()


def _task_body(args: list[Any] | None = None, **kwargs: Any) -> bytes:
    return json.dumps([args or [], kwargs, {}]).encode()


@dataclass(frozen=True)
class Case:
    body: bytes
    reason: str
    content_type: str = JSON
    task: str | None = PROCESS.task_name


POISONED = {
    "no task header": Case(_task_body(delay=1), "not a task message: it has no `task` header", task=None),
    "unknown task name": Case(
        _task_body(delay=1), "unknown task name 'taskgate.nonsense'", task="taskgate.nonsense"
    ),
    "pickle payload": Case(
        pickle.dumps(_Booby()), f"content type '{PICKLE}' is not accepted (only {JSON})", content_type=PICKLE
    ),
    "malformed body": Case(b'[[], {"delay": 1', f"the body is not valid {JSON}"),
    "not a task body": Case(b'{"delay": 1}', "the body is not a task body"),
    "positional arguments": Case(
        _task_body([1]), f"invalid arguments for {PROCESS.task_name}: positional arguments are not accepted"
    ),
    "string delay": Case(
        _task_body(delay="soon"),
        f"invalid arguments for {PROCESS.task_name}: delay: Input should be a valid number",
    ),
    "negative delay": Case(_task_body(delay=-1), "delay: Input should be greater than or equal to 0"),
    "unknown argument": Case(_task_body(delay=1, priority=9), "priority: Extra inputs are not permitted"),
    # Checked against the deployment's MAX_DELAY (100 in the tests' environment), not the default.
    "delay past MAX_DELAY": Case(_task_body(delay=101), "less than or equal to 100 (MAX_DELAY)"),
}


@dataclass
class RecordingChannel:
    """Stands in for an AMQP channel: remembers what was done with each delivery."""

    calls: list[tuple[str, int, bool | None]] = field(default_factory=list)

    def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.calls.append(("ack", delivery_tag, None))

    def basic_reject(self, delivery_tag: int, requeue: bool = False) -> None:
        self.calls.append(("reject", delivery_tag, requeue))


def _message(case: Case, channel: RecordingChannel | None = None, task_id: str | None = None) -> Message:
    headers = {} if case.task is None else {"task": case.task, "id": task_id or str(uuid.uuid4())}
    return Message(
        body=case.body,
        delivery_tag=7,
        content_type=case.content_type,
        content_encoding="binary" if case.content_type == PICKLE else "utf-8",
        headers=headers,
        channel=channel or RecordingChannel(),
    )


@pytest.mark.parametrize("case", POISONED.values(), ids=list(POISONED))
def test_each_poison_is_named(app: Celery, case: Case) -> None:
    reason = poison_reason(_message(case), app)
    assert reason is not None
    assert case.reason in reason


def test_a_pickle_payload_is_never_unpickled(app: Celery) -> None:
    poison_reason(_message(POISONED["pickle payload"]), app)
    assert UNPICKLED == []
    # The payload is live: the check above would have caught an unpickling.
    pickle.loads(POISONED["pickle payload"].body)
    assert UNPICKLED == [True]
    UNPICKLED.clear()


@pytest.mark.parametrize("kwargs", [{}, {"delay": 0}, {"delay": 2.5}, {"delay": 100}])
def test_a_task_the_api_would_send_passes(app: Celery, kwargs: dict[str, Any]) -> None:
    assert poison_reason(_message(Case(_task_body(**kwargs), "")), app) is None


def test_only_the_hosted_task_types_are_known(app: Celery, settings: WorkerSettings) -> None:
    thumbnail = Case(_task_body(image=PIXEL, width=8, height=8), "", task=THUMBNAIL.task_name)
    only_process = settings.model_copy(update={"worker_tasks": (PROCESS.name,), "task_time_limits": {}})
    registry = Registry.of([PROCESS, THUMBNAIL])
    handlers: dict[str, Handler] = {PROCESS.name: process, THUMBNAIL.name: make_thumbnail}
    process_worker = create_app(only_process, plan(only_process, registry=registry, handlers=handlers))

    assert poison_reason(_message(thumbnail), app) is None
    assert poison_reason(_message(thumbnail), process_worker) == f"unknown task name {THUMBNAIL.task_name!r}"


def test_arguments_of_a_newer_contract_are_left_to_the_version_check(app: Celery) -> None:
    message = _message(POISONED["unknown argument"])
    message.headers[CONTRACT_VERSION_HEADER] = "99.0.0"
    assert poison_reason(message, app) is None


def test_dead_lettering_rejects_without_requeue_and_says_why(
    app: Celery, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    channel = RecordingChannel()
    task_id = str(uuid.uuid4())
    consumer = DeadLetteringConsumer.__new__(DeadLetteringConsumer)  # only what dead_letter uses
    consumer.app, consumer.connection_errors = app, ()
    try:
        with caplog.at_level(logging.ERROR, logger="taskgate_worker.poison"):
            consumer.dead_letter(_message(POISONED["string delay"], channel, task_id), "the reason")
        assert channel.calls == [("reject", 7, False)]
        assert f"dead-letter queue: the reason (task id {task_id}, delivery tag 7)" in caplog.text
        meta = json.loads(redis_client.get(result_key(task_id)) or "null")
        assert meta["status"] == states.FAILURE
        assert meta["result"]["exc_type"] == "ValueError"
        assert meta["result"]["exc_message"] == ["the reason"]
    finally:
        redis_client.delete(result_key(task_id))


@pytest.fixture
def publish_raw(app: Celery, redis_client: redis.Redis) -> Iterator[Callable[[Case], str]]:
    """Publish a message straight to the task queue, as anyone with broker access could; its task id."""
    task_ids: list[str] = []
    with Connection(app.conf.broker_url, transport_options=app.conf.broker_transport_options) as connection:
        producer = Producer(connection, exchange=Exchange(PROCESS.queue, type="direct"))

        def publish(case: Case) -> str:
            message = _message(case)
            task_ids.append(message.headers.get("id") or "")
            producer.publish(
                message.body,
                routing_key=PROCESS.queue,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                headers=message.headers,
            )
            return task_ids[-1]

        yield publish
    keys = [key(task_id) for task_id in task_ids if task_id for key in (result_key, events_key, record_key)]
    if keys:
        redis_client.delete(*keys)


def test_the_worker_refuses_a_poisoned_task_and_keeps_serving(
    publish_raw: Callable[[Case], str],
    send: Callable[..., AsyncResult],
    app: Celery,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="taskgate_worker.poison"):
        poisoned = publish_raw(POISONED["string delay"])
    failed = AsyncResult(poisoned, app=app)
    deadline = time.monotonic() + WAIT
    while failed.state != states.FAILURE:
        assert time.monotonic() < deadline, f"poisoned task not marked failed: {failed.state}"
        time.sleep(0.02)
    reason = POISONED["string delay"].reason
    assert str(failed.result) == reason
    # Refused by the consumer, not failed by the task: the dead-letter line names it.
    assert f"dead-letter queue: {reason} (task id {poisoned}," in caplog.text
    assert send(delay=0).get(timeout=WAIT)["delay"] == 0
