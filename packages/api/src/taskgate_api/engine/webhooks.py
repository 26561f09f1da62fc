"""Completion webhooks, as far as the api takes them: it checks a callback URL when a task is submitted,
and sends the delivery of a task it cancels.

Whoever records a task's end sends its delivery — a `webhook` task — after claiming it in the task's
record, which only one can: the worker that ran the task for its outcome, the api for a cancel. A task
cancelled while queued never runs, so the api's claim is its only one; a running task cancelled by the api
is claimed by the api too, and the worker that stops it a moment later finds the claim taken.
"""

import contextlib
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api.engine.errors import ServiceUnavailableError, redis_errors
from taskgate_api.engine.sending import TaskSender
from taskgate_contracts import WebhookAttempt, WebhookState
from taskgate_contracts.builtin.webhook import WEBHOOK, WebhookArgs, WebhookSettings, delivery_id
from taskgate_contracts.destinations import DestinationPolicy
from taskgate_contracts.storage import record_key, scripts


class Webhooks:
    def __init__(
        self, redis: Redis, address: str, expires: int, sender: TaskSender, settings: WebhookSettings | None
    ) -> None:
        self._address = address
        self._expires = expires
        self._sender = sender
        self._claim = redis.register_script(scripts.CLAIM_WEBHOOK)
        self._note = redis.register_script(scripts.NOTE_WEBHOOK)
        #: Without the webhook type installed, no callback URL is accepted.
        self.policy = DestinationPolicy(()) if settings is None else settings.policy

    async def task_ended(self, task_id: str) -> None:
        """The api recorded the task's end (a cancel): send its webhook's delivery, unless it has none or
        another claimed it first. A delivery RabbitMQ does not take is noted as failed on the task."""
        now = datetime.now(UTC)
        with redis_errors(self._address):
            claimed = await self._claim(keys=[record_key(task_id)], args=[now.isoformat()])
        if not claimed:
            return
        try:
            await self._sender.send(WEBHOOK, WebhookArgs(task_id=task_id), delivery_id(task_id))
        except ServiceUnavailableError as exc:
            failure = WebhookAttempt(at=now, error=f"the delivery could not be queued: {exc.detail}")
            note = scripts.webhook_note(self._expires, WebhookState.FAILED, [failure], None)
            with contextlib.suppress(RedisError, OSError):
                await self._note(keys=[record_key(task_id)], args=note)
