"""Sending tasks to RabbitMQ by the name contracts gives, from the event loop, confirmed.

Celery writes the message — protocol 2 headers and body, exactly what `send_task` would publish — and
an asyncio AMQP client publishes it on one connection with publisher confirms: a send returns once
RabbitMQ has taken the message, no thread is held while it waits, and many sends share the channel
at once. The api's Celery app has no result backend, so nothing subscribes a synchronous Redis
connection per sent task (celery issue 6963): results reach the api through `waiting.ResultHub`.

With several nodes (RABBITMQ_HOSTS) the connection goes to the first that answers; when it breaks, the
next connection starts with the node after it, so a dead node costs the sends that were in flight on
it, not the sends after.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast
from urllib.parse import urlencode

import aiormq
from aiormq.abc import AbstractConnection
from celery import Celery
from celery.utils.nodenames import anon_nodename
from celery.utils.saferepr import saferepr
from kombu.entity import Queue
from kombu.serialization import dumps
from pamqp.commands import Basic
from pydantic import BaseModel

from taskgate_api.config import ApiSettings
from taskgate_api.engine.errors import ServiceUnavailableError
from taskgate_api.tracing import Tracing
from taskgate_contracts import TaskSpec
from taskgate_contracts.messages import message_headers

#: Persistent: a queued task survives a RabbitMQ restart in its durable queue.
_PERSISTENT = 2
_FAILURES = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    ConnectionError,
    OSError,
    TimeoutError,
)


#: Arguments longer than this are shown shortened in the message's `kwargsrepr` header (what Flower
#: displays): a header must fit in one AMQP frame, and a base64 image would not.
_REPR_LIMIT = 1024


def create_producer(settings: ApiSettings, queues: Iterable[str]) -> Celery:
    """The Celery app that writes task messages and pings workers; it publishes nothing itself."""
    app = Celery("taskgate-api", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        broker_connection_timeout=settings.publish_timeout,
        task_queues=[
            Queue(queue, durable=True, queue_arguments=settings.task_queue_arguments) for queue in queues
        ],
    )
    return app


class TaskSender:
    def __init__(
        self, producer: Celery, settings: ApiSettings, queues: Iterable[str], tracing: Tracing | None = None
    ) -> None:
        self._producer = producer
        self._tracing = tracing
        self._queues = tuple(queues)
        # As an AMQP table: its values may be any field value.
        self._queue_arguments: dict[str, Any] = {**settings.task_queue_arguments}
        # aiormq reads the heartbeat it asks for from the URL.
        heartbeat = urlencode({"heartbeat": settings.rabbitmq_heartbeat})
        self._nodes = [
            (str(node), f"{url}?{heartbeat}")
            for node, url in zip(settings.broker_nodes, settings.broker_urls, strict=True)
        ]
        #: The node the next connection tries first: the one after the node whose connection broke.
        self._first = 0
        self._address = settings.broker_address
        self._timeout = settings.publish_timeout
        self._connection: AbstractConnection | None = None
        self._channel: aiormq.Channel | None = None
        self._opening = asyncio.Lock()
        #: Channels being closed once their confirmations have come (see `_retire`).
        self._retiring: set[asyncio.Future[None]] = set()
        self._origin = anon_nodename()

    async def send(self, spec: TaskSpec[Any, Any], args: BaseModel, task_id: str) -> None:
        """Publish the task; raises `ServiceUnavailableError` when RabbitMQ does not take it."""
        kwargs = args.model_dump(mode="json")
        # What Celery would work out for every message, given: the sender's name once, and the
        # arguments' display form as a plain repr, which Celery's safe repr only differs from past 1 KB.
        shown = repr(kwargs)
        if len(shown) > _REPR_LIMIT:
            shown = saferepr(kwargs, maxlen=_REPR_LIMIT)
        message = self._producer.amqp.create_task_message(
            task_id, spec.task_name, (), kwargs, origin=self._origin, argsrepr="()", kwargsrepr=shown
        )
        content_type, encoding, body = dumps(message.body, serializer="json")
        # Names the contract version, so a worker on an older major version refuses it cleanly.
        headers = {**_amqp_table(message.headers), **message_headers()}
        payload = body.encode() if isinstance(body, str) else body
        if self._tracing is None:
            await self._publish(spec, payload, _properties(content_type, encoding, headers, task_id))
            return
        with self._tracing.publishing(spec, task_id, headers):  # adds the trace context to `headers`
            await self._publish(spec, payload, _properties(content_type, encoding, headers, task_id))

    async def _publish(
        self, spec: TaskSpec[Any, Any], payload: bytes, properties: aiormq.spec.Basic.Properties
    ) -> None:
        # A connection found dead (RabbitMQ restarted since) is replaced once; an unconfirmed message is
        # safe to send again: the worker runs a task id once per delivery, and it was not delivered.
        for attempt in (1, 2):
            channel: aiormq.Channel | None = None
            try:
                channel = await self._open_channel()
                # The publish runs as a task of its own, shielded: a request that is cancelled or times
                # out mid-write must not leave a half-written frame that breaks the channel for all.
                # wait=False: the channel's lock is held only to queue the frames, not until the socket
                # has drained them, so sends do not line up one event-loop turn each; the confirmation
                # is what says RabbitMQ has the message.
                publish = asyncio.ensure_future(
                    channel.basic_publish(
                        payload, routing_key=spec.queue, properties=properties, mandatory=True, wait=False
                    )
                )
                publish.add_done_callback(_retrieve_exception)
                async with asyncio.timeout(self._timeout):
                    confirmation = await asyncio.shield(publish)
                break
            except aiormq.exceptions.PublishError as exc:  # returned: no queue took it
                raise ServiceUnavailableError("rabbitmq", self._address, f"no queue {spec.queue!r}") from exc
            except aiormq.exceptions.DeliveryError as exc:
                # Nacked: the queue is full — or, on a quorum queue, this channel began publishing while
                # the queue was electing a leader, and RabbitMQ (3.10 at least) keeps nacking on such a
                # channel for good. A nacked message was not taken, so it is sent again once, on a
                # fresh channel, which tells the two apart.
                self._retire(channel)
                if attempt == 2:
                    raise _queue_full(self._address) from exc
                continue
            except _FAILURES as exc:
                if isinstance(exc, TimeoutError) and channel is not None and not channel.is_closed:
                    # A slow confirmation is a busy broker (or this process), not a broken connection:
                    # closing it would fail every other send in flight on the shared channel. A dead
                    # connection is found by its heartbeat, or by the next send.
                    raise ServiceUnavailableError(
                        "rabbitmq", self._address, f"no confirmation within {self._timeout:g} s"
                    ) from exc
                await self._discard(channel)
                if attempt == 2:
                    raise ServiceUnavailableError("rabbitmq", self._address, _reason(exc)) from exc
        if not isinstance(confirmation, Basic.Ack):
            raise _queue_full(self._address)

    @contextlib.asynccontextmanager
    async def private_channel(self) -> AsyncIterator[aiormq.Channel]:
        """A channel of its own on the shared connection, with publisher confirms, closed on leaving: what
        it took and did not acknowledge goes back to its queue then (or when the connection drops).
        Raises ServiceUnavailableError when RabbitMQ does not answer."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._open_channel()
                assert self._connection is not None
                channel = cast(aiormq.Channel, await self._connection.channel(publisher_confirms=True))
        except _FAILURES as exc:
            raise ServiceUnavailableError("rabbitmq", self._address, _reason(exc)) from exc
        try:
            yield channel
        finally:
            with contextlib.suppress(*_FAILURES):
                await channel.close()

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def address(self) -> str:
        return self._address

    async def _open_channel(self) -> aiormq.Channel:
        """The shared channel, opened (with a connection when that closed too) when there is none or it
        closed."""
        if self._channel is not None and not self._channel.is_closed:
            return self._channel
        async with self._opening:
            if self._channel is None or self._channel.is_closed:
                if self._connection is not None and not self._connection.is_closed:
                    self._channel = await self._declared_channel(self._connection)
                else:
                    await self._discard(self._channel)
                    self._connection, self._channel = await self._connect()
            return self._channel

    def _retire(self, channel: aiormq.Channel | None) -> None:
        """Send nothing more on `channel`; close it once the confirmations it still awaits have come."""
        if channel is None or channel is not self._channel:
            return
        self._channel = None
        closing = asyncio.ensure_future(_close_when_settled(channel, self._timeout))
        self._retiring.add(closing)
        closing.add_done_callback(self._retiring.discard)

    async def _connect(self) -> tuple[AbstractConnection, aiormq.Channel]:
        """A connection to the first node that answers, from `_first` on, within the publish timeout;
        each node gets an equal share of it, so one that drops packets cannot take all of it."""
        order = self._nodes[self._first :] + self._nodes[: self._first]
        failures: list[str] = []
        for index, (address, url) in enumerate(order):
            try:
                async with asyncio.timeout(self._timeout / len(order)):
                    opened = await self._open(url)
            except _FAILURES as exc:
                # The error names the broker's address already; with several, each reason names its node.
                failures.append(f"{address}: {_reason(exc)}" if len(order) > 1 else _reason(exc))
                continue
            self._first = (self._first + index) % len(self._nodes)
            return opened
        raise ConnectionError("; ".join(failures))

    async def _open(self, url: str) -> tuple[AbstractConnection, aiormq.Channel]:
        connection = await aiormq.connect(url)
        try:
            return connection, await self._declared_channel(connection)
        except BaseException:
            await connection.close()
            raise

    async def _declared_channel(self, connection: AbstractConnection) -> aiormq.Channel:
        # The concrete channel: its basic_publish takes `wait`, the abstract one's does not.
        async with asyncio.timeout(self._timeout):
            channel = cast(aiormq.Channel, await connection.channel(publisher_confirms=True))
            for queue in self._queues:  # as the worker declares it, so either may start first
                await channel.queue_declare(queue, durable=True, arguments=self._queue_arguments)
        return channel

    async def _discard(self, channel: aiormq.Channel | None) -> None:
        """Close the connection of `channel` if it is still the shared one; a newer one is left alone."""
        if channel is None or channel is not self._channel:
            return
        connection, self._connection, self._channel = self._connection, None, None
        # Its node may be the one that failed: the next connection tries the others first.
        self._first = (self._first + 1) % len(self._nodes)
        if connection is not None:
            with contextlib.suppress(*_FAILURES):
                await connection.close()

    async def close(self) -> None:
        await self._discard(self._channel)
        self._producer.close()


async def _close_when_settled(channel: aiormq.Channel, within: float) -> None:
    pending = list(channel.confirmations.values())
    if pending:
        await asyncio.wait(pending, timeout=within)
    with contextlib.suppress(*_FAILURES):
        await channel.close()


def _retrieve_exception(publish: "asyncio.Future[Any]") -> None:
    """Mark a publish's failure as seen: its request may have stopped waiting for it (timed out or
    cancelled), and the shielded task would otherwise log "exception was never retrieved"."""
    if not publish.cancelled():
        publish.exception()


def _queue_full(address: str) -> ServiceUnavailableError:
    # With publisher confirms, a full queue (max-length, overflow reject-publish) nacks the message; so
    # does a quorum queue that is electing a leader, to a channel that began publishing meanwhile.
    return ServiceUnavailableError(
        "rabbitmq",
        address,
        "the task queue is full (or, on a cluster, electing a leader): RabbitMQ refused the task",
        refused=True,
    )


def _properties(
    content_type: str, encoding: str, headers: dict[str, Any], task_id: str
) -> aiormq.spec.Basic.Properties:
    return aiormq.spec.Basic.Properties(
        content_type=content_type,
        content_encoding=encoding,
        headers=headers,
        delivery_mode=_PERSISTENT,
        correlation_id=task_id,
        priority=0,
    )


def _amqp_table(headers: dict[str, Any]) -> dict[str, Any]:
    """Celery's headers as an AMQP table: tuples become arrays."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in headers.items()}


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
