"""The dead-letter queues: what is in them, read without taking it out, and replaying one of them.

Reading goes through AMQP `basic.get` on a channel of its own, without acknowledging: every message
fetched stays unacknowledged, held by that channel, until the channel closes, and RabbitMQ then puts
each back in its place in the queue. Nothing is ever lost to a listing — if the api dies mid-way, the
connection's end returns them just the same — and messages held are not fetched twice, so a listing
sees each once. (The management API's "get messages" does the same, `ackmode=ack_requeue_true`, but
needs the management plugin, its port and credentials besides AMQP; AMQP is what the api already
holds.) On a quorum queue RabbitMQ counts such a return as a delivery: see docs/keys.md.

A replay fetches messages the same way until it finds the task's, publishes a copy (same task id,
body and headers) to the queue it was dead-lettered from, waits for RabbitMQ's confirmation, and only
then acknowledges the dead letter, which removes it. A claim in Redis (`REPLAY`) makes it happen once.
"""

import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import aiormq
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic
from redis.asyncio import Redis

from taskgate_api.engine.errors import ServiceUnavailableError, redis_errors
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.sending import TaskSender
from taskgate_contracts import DeadLetter
from taskgate_contracts.history import DeadLetterReason
from taskgate_contracts.messages import dead_letter_queue
from taskgate_contracts.storage import scripts
from taskgate_contracts.tasks import type_name

_REASONS: frozenset[str] = frozenset({"rejected", "delivery_limit", "expired", "maxlen"})


class NotDeadLetteredError(Exception):
    """No dead-letter queue holds a message of the task."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(f"no dead-letter queue holds task {task_id}")


class AlreadyReplayedError(Exception):
    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(f"task {task_id} was replayed already; a dead letter is replayed once")


class DeadLetters:
    def __init__(
        self, sender: TaskSender, queues: Iterable[str], records: TaskRecords, redis: Redis, address: str
    ) -> None:
        self._sender = sender
        self._queues = sorted(set(queues))
        self._records = records
        self._redis = redis
        self._address = address
        self._replay = redis.register_script(scripts.REPLAY)

    async def list(self, limit: int) -> tuple[list[DeadLetter], bool]:
        """Up to `limit` dead letters, queue by queue, oldest first; and whether more wait."""
        letters: list[DeadLetter] = []
        more = False
        for queue in self._queues:
            # A channel per queue: closing it puts that queue's messages back before the next is read.
            async with self._sender.private_channel() as channel:
                async for message, left in _fetched(channel, dead_letter_queue(queue)):
                    if len(letters) == limit:
                        more = True
                        break
                    letters.append(_letter(message, queue))
                    if left == 0:
                        break
            if more:
                break
        failures = await self._records.views([letter.task_id for letter in letters if letter.task_id])
        reasons = {view.task_id: view.error for view in failures if view is not None and view.error}
        return [
            letter.model_copy(update={"detail": reasons.get(letter.task_id or "")}) for letter in letters
        ], more

    async def replay(self, task_id: str) -> str:
        """Send the task's dead letter back to its queue as a new attempt; the queue's name. Raises
        NotDeadLetteredError, AlreadyReplayedError, ServiceUnavailableError."""
        with redis_errors(self._address):
            # Said at once, without looking through the queues; REPLAY's claim is what makes it once.
            if await self._redis.exists(scripts.replayed_key(task_id)):
                raise AlreadyReplayedError(task_id)
        for queue in self._queues:
            async with self._sender.private_channel() as channel:
                async for message, left in _fetched(channel, dead_letter_queue(queue)):
                    if _task_id(message) == task_id:
                        return await self._send_back(channel, message, _origin(message) or queue, task_id)
                    if left == 0:
                        break
        raise NotDeadLetteredError(task_id)

    async def _send_back(
        self, channel: aiormq.Channel, message: DeliveredMessage, queue: str, task_id: str
    ) -> str:
        """Claim the replay, reset the task to queued, publish the copy, and once RabbitMQ confirmed it,
        acknowledge the dead letter."""
        task = (message.header.properties.headers or {}).get("task")
        with redis_errors(self._address):
            replayed = await self._replay(
                keys=scripts.replay_keys(task_id),
                args=[
                    datetime.now(UTC).isoformat(),
                    (type_name(task) if isinstance(task, str) else None) or "",
                    self._records.expires,
                    task_id,
                ],
            )
        if replayed:
            raise AlreadyReplayedError(task_id)
        await self._republish(channel, message, queue)
        assert isinstance(message.delivery, Basic.GetOk)
        await channel.basic_ack(message.delivery.delivery_tag or 0)
        return queue

    async def _republish(self, channel: aiormq.Channel, message: DeliveredMessage, queue: str) -> None:
        try:
            confirmation = await channel.basic_publish(
                message.body, routing_key=queue, properties=message.header.properties, mandatory=True
            )
        except (aiormq.exceptions.AMQPError, OSError) as exc:
            raise ServiceUnavailableError("rabbitmq", self._sender.address, exc) from exc
        if not isinstance(confirmation, Basic.Ack):
            raise ServiceUnavailableError(
                "rabbitmq", self._sender.address, f"queue {queue!r} refused the replayed task", refused=True
            )


async def _fetched(channel: aiormq.Channel, queue: str) -> AsyncIterator[tuple[DeliveredMessage, int]]:
    """The messages of `queue`, each with how many were left behind it, fetched and held unacknowledged.
    A queue that does not exist holds none: nothing was ever dead-lettered to it (RabbitMQ closes the
    channel, which is the queue's own)."""
    while True:
        try:
            message = await channel.basic_get(queue, no_ack=False)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return
        if not isinstance(message.delivery, Basic.GetOk):
            return
        yield message, message.delivery.message_count or 0


def _task_id(message: DeliveredMessage) -> str | None:
    headers = message.header.properties.headers or {}
    task_id = headers.get("id") or message.header.properties.correlation_id
    return task_id if isinstance(task_id, str) else None


def _deaths(message: DeliveredMessage) -> list[dict[str, Any]]:
    deaths = (message.header.properties.headers or {}).get("x-death")
    return [death for death in deaths if isinstance(death, dict)] if isinstance(deaths, list) else []


def _origin(message: DeliveredMessage) -> str | None:
    deaths = _deaths(message)
    queue = deaths[0].get("queue") if deaths else None
    return queue if isinstance(queue, str) else None


def _letter(message: DeliveredMessage, queue: str) -> DeadLetter:
    headers = message.header.properties.headers or {}
    deaths = _deaths(message)
    # RabbitMQ keeps one x-death entry per queue and reason, the most recent first.
    death = deaths[0] if deaths else {}
    reason = death.get("reason")
    when = death.get("time")
    task = headers.get("task")
    return DeadLetter(
        task_id=_task_id(message),
        task=type_name(task) if isinstance(task, str) else None,
        queue=_origin(message) or queue,
        dead_letter_queue=dead_letter_queue(queue),
        reason=_reason(reason),
        dead_lettered_at=when.replace(tzinfo=UTC)
        if isinstance(when, datetime) and when.tzinfo is None
        else when,
        count=int(death.get("count", 0) or 0),
        args=_arguments(message),
    )


def _reason(reason: object) -> DeadLetterReason | None:
    text = reason.decode() if isinstance(reason, bytes) else reason
    return text if isinstance(text, str) and text in _REASONS else None  # type: ignore[return-value]


def _arguments(message: DeliveredMessage) -> dict[str, Any] | None:
    """The keyword arguments of a Celery (protocol 2) JSON body; None for anything else."""
    if message.header.properties.content_type != "application/json":
        return None
    try:
        body = json.loads(message.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(body, list) and len(body) == 3 and isinstance(body[1], dict):
        return body[1]
    return None
