"""The worker's `worker-heartbeat` events (what Flower counts a worker online by), sent without retrying
a lost connection.

Celery sends them from the worker's event loop and retries a lost connection for ever. On a link that
drops packets the loop then waits in that reconnect until the link returns, and never runs the AMQP
heartbeat check that would notice the lost consumer connection and stop the job RabbitMQ is about to
give to another worker: measured with the link cut, the cut worker finished its copy too, once the
link was back. Not retried, a heartbeat that cannot go is kept in Celery's event buffer, the loop goes
on, the check runs, and the job is stopped while the link is still down. The next heartbeat is due
two seconds later anyway, and the consumer's own reconnect brings the events connection back.
"""

from typing import Any

from celery.worker import heartbeat
from celery.worker.consumer.heart import Heart

#: The step this one stands in for, as Celery's consumer blueprint names it.
CELERY_STEP = "celery.worker.consumer.heart:Heart"

#: kombu's retry of a publish, with no retry: a lost connection raises at once.
RETRY_POLICY = {"max_retries": 0}


class _BoundedRetries:
    """The worker's event dispatcher as the heartbeat uses it: every send with `RETRY_POLICY`."""

    def __init__(self, dispatcher: Any) -> None:
        self._dispatcher = dispatcher

    def send(self, *args: Any, **kwargs: Any) -> Any:
        return self._dispatcher.send(*args, retry_policy=RETRY_POLICY, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dispatcher, name)


class UnretriedHeart(Heart):  # type: ignore[misc]  # Celery is untyped
    def start(self, c: Any) -> None:
        c.heart = heartbeat.Heart(c.timer, _BoundedRetries(c.event_dispatcher), self.heartbeat_interval)
        c.heart.start()
