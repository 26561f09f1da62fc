"""Sending tasks to RabbitMQ by the name contracts gives, without blocking the event loop.

The api's Celery app is a producer only: it has no result backend, so `send_task` does not subscribe a
synchronous Redis connection to every task's channel (celery issue 6963) — results reach the api through
`waiting.ResultHub` instead. Kombu's producer is synchronous, so publishing runs in a bounded thread pool
that matches the producer pool: with publisher confirms, a send returns once RabbitMQ has the message.
"""

import functools
from typing import Any

import anyio
import anyio.to_thread
from amqp.exceptions import MessageNacked
from celery import Celery
from kombu.entity import Queue
from kombu.exceptions import OperationalError
from pydantic import BaseModel

from taskgate_api.config import ApiSettings
from taskgate_api.errors import ServiceUnavailableError
from taskgate_contracts import ALL_TASKS, TaskSpec
from taskgate_contracts.messages import message_headers

#: Producer connections kept open to RabbitMQ; sends beyond this wait for a free one.
_PRODUCER_POOL_SIZE = 16


def create_producer(settings: ApiSettings) -> Celery:
    app = Celery("taskgate-api", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        broker_pool_limit=_PRODUCER_POOL_SIZE,
        broker_connection_timeout=settings.publish_timeout,
        broker_transport_options={"confirm_publish": True},
        task_queues=[Queue(spec.queue, durable=True) for spec in ALL_TASKS],
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": settings.publish_timeout / 4,
            "interval_max": settings.publish_timeout / 2,
        },
    )
    return app


class TaskSender:
    def __init__(self, producer: Celery, settings: ApiSettings) -> None:
        self._producer = producer
        self._address = settings.broker_address
        self._limiter = anyio.CapacityLimiter(_PRODUCER_POOL_SIZE)
        connection = producer.connection_for_write()
        self._errors: tuple[type[BaseException], ...] = (
            OperationalError,
            OSError,
            *connection.connection_errors,
            *connection.channel_errors,
        )
        connection.release()

    async def send(self, spec: TaskSpec[Any, Any], args: BaseModel, task_id: str) -> None:
        """Publish the task; raises `ServiceUnavailableError` when RabbitMQ does not take it."""
        publish = functools.partial(
            self._producer.send_task,
            spec.name,
            kwargs=args.model_dump(mode="json"),
            queue=spec.queue,
            task_id=task_id,
            # Names the contract version, so a worker on an older major version refuses it cleanly.
            headers=message_headers(),
        )
        try:
            await anyio.to_thread.run_sync(publish, limiter=self._limiter)
        except MessageNacked as exc:
            # With publisher confirms, a full queue (max-length, overflow reject-publish) nacks the message.
            raise ServiceUnavailableError(
                "rabbitmq", self._address, "the task queue is full, RabbitMQ refused the task", refused=True
            ) from exc
        except self._errors as exc:
            raise ServiceUnavailableError("rabbitmq", self._address, exc) from exc

    def close(self) -> None:
        self._producer.close()
