"""Celery's native delayed delivery, set up through the node the worker has just connected to.

On quorum queues Celery holds a retry's countdown in the broker, in exchanges and queues its consumer
declares each time it (re)connects — through every broker URL in turn, retrying each that does not
answer for about ten seconds, before the worker consumes again. The URLs of RABBITMQ_HOSTS are nodes
of one cluster, where one declaration serves them all; and after a node is lost, the retries against
it kept a reconnected worker from taking jobs for 18 s. So the declarations go once, through the
node the consumer is connected to.
"""

import logging
from typing import Any

from celery.worker.consumer.delayed_delivery import DelayedDelivery
from kombu.common import Broadcast
from kombu.transport.native_delayed_delivery import (
    bind_queue_to_native_delayed_delivery_exchange,
    declare_native_delayed_delivery_exchanges_and_queues,
)

log = logging.getLogger(__name__)

#: The step this one stands in for, as Celery's consumer blueprint names it.
CELERY_STEP = "celery.worker.consumer.delayed_delivery:DelayedDelivery"


class DelayedDeliveryOnConnectedNode(DelayedDelivery):  # type: ignore[misc]  # Celery is untyped
    def start(self, c: Any) -> None:
        app = c.app
        url = c.connection.as_uri(include_password=True)
        try:
            with app.connection_for_write(url=url) as connection:
                queue_type = app.conf.broker_native_delayed_delivery_queue_type
                declare_native_delayed_delivery_exchanges_and_queues(connection, queue_type)
                for queue in app.amqp.queues.values():
                    if not isinstance(queue, Broadcast):
                        bind_queue_to_native_delayed_delivery_exchange(connection, queue)
        except Exception as exc:
            # As Celery's own step: the worker goes on, and the next connection tries again; meanwhile a
            # retry's countdown is held by the worker.
            log.warning("could not set up delayed delivery through %s: %s", c.connection.as_uri(), exc)
