"""The raw-Celery baseline: a plain producer sending `taskgate.process` straight to the same worker.

The producer is what a Python program without taskgate would write: a Celery app on the same vhost with
the Redis result backend and publisher confirms, `send_task` by the name contracts gives, and
`AsyncResult.get` for each result.
"""

import time
from dataclasses import dataclass

from celery import Celery
from celery.result import AsyncResult
from kombu.entity import Queue

from bench.infra import REDIS_URL, broker_url
from bench.stats import Latency
from taskgate_contracts.builtin.process import PROCESS, ProcessArgs

_RESULT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Drain:
    """How fast the worker works off a queue of delay-0 tasks."""

    tasks: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.tasks / self.seconds


def producer(vhost: str) -> Celery:
    app = Celery("taskgate-bench-baseline", broker=broker_url(vhost), backend=REDIS_URL, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        broker_transport_options={"confirm_publish": True},
        task_queues=[Queue(PROCESS.queue, durable=True)],
    )
    return app


def send(app: Celery, delay: float = 0) -> AsyncResult:
    kwargs = ProcessArgs(delay=delay).model_dump(mode="json")
    result: AsyncResult = app.send_task(PROCESS.task_name, kwargs=kwargs, queue=PROCESS.queue)
    return result


def round_trips(app: Celery, count: int, warmup: int) -> Latency:
    """Send a delay-0 task and wait for its result, `count` times in a row, after `warmup` unmeasured."""
    for _ in range(warmup):
        send(app).get(timeout=_RESULT_TIMEOUT)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        send(app).get(timeout=_RESULT_TIMEOUT)
        samples.append(time.perf_counter() - started)
    return Latency.of_seconds(samples)


def drain(app: Celery, count: int) -> Drain:
    """Queue `count` delay-0 tasks as fast as RabbitMQ confirms them, then collect every result.

    The queue never runs dry, so this is the worker's own pace: the most tasks per second any front
    end could get through it, which is what the api's throughput is compared with.
    """
    started = time.perf_counter()
    results = [send(app) for _ in range(count)]
    for result in results:
        result.get(timeout=_RESULT_TIMEOUT)
    return Drain(tasks=count, seconds=time.perf_counter() - started)
