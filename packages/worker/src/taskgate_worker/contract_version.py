"""Refusing task messages written with a newer major contract version than this worker's.

The api and the worker are released on their own, so the queue can hold a message from an api built on a
newer contract. Its `taskgate-contract` header names that version. A newer major version may mean
something this worker would misread, so such a message is rejected without requeueing before it is
turned into a task request: RabbitMQ routes it to the queue's dead-letter exchange (the policy that
`taskgate-ops rabbitmq bootstrap` applies), where it waits, intact, for a worker that can read it.
Any older or equal major version is read, whatever its minor: a minor version only adds. A message
without the header comes from an api that predates it and is read as before.

The check wraps the execution strategy of every task the worker hosts (`base.HandlerTask.Strategy`), the
function Celery's consumer hands every message of that task to. `task_prerun` and the task itself run in
a pool process once the message has been taken on, too late to refuse it cleanly.
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any

from celery import Celery, Task
from celery.worker.strategy import default as default_strategy
from kombu.message import Message

from taskgate_contracts.messages import CONTRACT_VERSION_HEADER, major_version
from taskgate_contracts.version import __version__ as contract_version

log = logging.getLogger(__name__)

MessageHandler = Callable[..., Any]


def unreadable_reason(headers: Mapping[str, Any] | None, reader: str = contract_version) -> str | None:
    """Why a worker on contract `reader` cannot read a message with `headers`, or None when it can."""
    written_with = (headers or {}).get(CONTRACT_VERSION_HEADER)
    if written_with is None:
        return None
    major = _major(written_with)
    if major is None:
        return f"its contract version {written_with!r} is not a version"
    if major > major_version(reader):
        return (
            f"it was written with contract {written_with}, a newer major version than this worker's {reader}"
        )
    return None


def _major(written_with: object) -> int | None:
    """The major version a header value names, or None when it names none (our senders write a string)."""
    try:
        return major_version(written_with) if isinstance(written_with, str) else None
    except ValueError:
        return None


def version_checking_strategy(task: Task, app: Celery, consumer: Any, **options: Any) -> MessageHandler:
    """Celery's default strategy for `task`, behind the contract version check (a `Task.Strategy`)."""
    handle: MessageHandler = default_strategy(task, app, consumer, **options)

    def on_message(message: Message, body: Any, ack: Any, reject: MessageHandler, *rest: Any) -> Any:
        reason = unreadable_reason(message.headers)
        if reason is None:
            return handle(message, body, ack, reject, *rest)
        headers = message.headers or {}
        log.error(
            "task %s[%s] rejected to the dead-letter queue: %s; upgrade this worker, then move the message "
            "back to the queue",
            headers.get("task"),
            headers.get("id"),
            reason,
        )
        reject(log, consumer.connection_errors, False)
        events = consumer.event_dispatcher
        if events is not None and events.enabled:
            # Flower lists the task as rejected rather than never hearing of it.
            events.send("task-rejected", uuid=headers.get("id"), requeue=False)
        return None

    return on_message
