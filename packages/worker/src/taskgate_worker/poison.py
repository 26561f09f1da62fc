"""Poisoned messages: what the worker cannot run goes to the dead-letter queue, with a log line saying why.

Left to itself Celery acknowledges a body it cannot decode, so the message vanishes, and it runs a task
whose arguments do not fit until the task fails, then acknowledges it too. Neither leaves anything to
inspect or replay. Every message is checked here before Celery's handler sees it; one that can never run
is rejected without requeueing, which RabbitMQ routes to the queue's dead-letter exchange (the policy
`taskgate-ops rabbitmq bootstrap` applies), and the task it names, if any, is marked failed, so a client
following it learns why instead of waiting for ever.

Nothing is decoded before its content type is known to be accepted: a pickle payload is refused unread.
"""

import logging
from collections.abc import Callable, Collection
from typing import Any

from celery import Celery
from celery.worker.consumer import Consumer
from kombu.exceptions import ContentDisallowed, DecodeError
from kombu.message import Message
from kombu.serialization import prepare_accept_content
from vine import promise

from taskgate_worker.base import HandlerTask
from taskgate_worker.contract_version import unreadable_reason

log = logging.getLogger(__name__)


def poison_reason(message: Message, app: Celery) -> str | None:
    """Why `message` can never run on this worker, or None when it is a task message it can run."""
    headers = message.headers
    name = headers.get("task") if isinstance(headers, dict) else None
    if not isinstance(name, str):
        return "not a task message: it has no `task` header (Celery's message protocol 2)"
    # Only the task types this worker hosts are registered: another's message would fail as unknown.
    task = app.tasks.get(name)
    if task is None:
        return f"unknown task name {name!r}"
    accepted: Collection[str] = prepare_accept_content(app.conf.accept_content)
    if message.content_type not in accepted:
        return f"content type {message.content_type!r} is not accepted (only {', '.join(sorted(accepted))})"
    try:
        body = message.decode()
    except (DecodeError, ContentDisallowed) as exc:
        return f"the body is not valid {message.content_type}: {exc}"
    if not _is_task_body(body):
        return "the body is not a task body: [positional arguments, keyword arguments, options]"
    if unreadable_reason(headers) is not None:
        # Written on a newer contract, its arguments are judged by that contract: the version check
        # (`contract_version`) dead-letters it intact, for a worker that can read it, not failing the task.
        return None
    # Celery's own tasks (`celery.*`) have no args model to check.
    return task.arguments_problem(body[0], body[1]) if isinstance(task, HandlerTask) else None


def _is_task_body(body: object) -> bool:
    return (
        isinstance(body, list)
        and len(body) == 3
        and isinstance(body[0], list)
        and isinstance(body[1], dict)
        and isinstance(body[2], dict)
    )


class DeadLetteringConsumer(Consumer):  # type: ignore[misc]  # Celery is untyped
    """Celery's consumer, with every message checked before it reaches a task (`consumer.WorkerConsumer`
    is the worker's)."""

    def create_task_handler(self, promise: Callable[..., Any] = promise) -> Callable[[Message], None]:
        handle: Callable[[Message], None] = super().create_task_handler(promise)

        def on_task_received(message: Message) -> None:
            reason = poison_reason(message, self.app)
            if reason is None:
                handle(message)
            else:
                self.dead_letter(message, reason)

        return on_task_received

    def dead_letter(self, message: Message, reason: str) -> None:
        task_id = message.headers.get("id") if isinstance(message.headers, dict) else None
        log.error(
            "poisoned message sent to the dead-letter queue: %s (task id %s, delivery tag %s)",
            reason,
            task_id,
            message.delivery_tag,
        )
        message.reject_log_error(log, self.connection_errors, requeue=False)
        if isinstance(task_id, str):
            # A builtin exception, so whoever reads the failure needs no worker code to rebuild it.
            self.app.backend.mark_as_failure(task_id, ValueError(reason))
