"""Prometheus metrics the api exposes on /metrics: requests by route and code, and per task type what was
submitted, how the waits for outcomes ended and how long they took, and each task queue's depth and
consumers (read from RabbitMQ when /metrics is scraped)."""

import asyncio
import os
import resource
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from taskgate_api.multiprocess import METRICS_DIR_VARIABLE
from taskgate_contracts import QueueState, TaskState

if METRICS_DIR_VARIABLE in os.environ:
    # One of several api processes. It never forks, so its pid is read once: the library would read it
    # on every update, a system call each, which cost an answer more than its metrics did.
    _PID = os.getpid()
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: _PID)  # type: ignore[no-untyped-call]

_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter(
    "taskgate_http_requests", "HTTP requests by method, route and status code.", ["method", "route", "code"]
)
REQUEST_SECONDS = Histogram(
    "taskgate_http_request_seconds",
    "Time from a request's arrival to the end of its answer, by route.",
    ["route"],
    buckets=_SECONDS,
)
TASKS_SUBMITTED = Counter("taskgate_tasks_submitted", "Tasks sent to RabbitMQ, by task type.", ["task"])
OUTCOMES = Counter(
    "taskgate_task_outcomes",
    "How the waits for a task's outcome (run operations, POST /process) ended, by task type: completed, "
    "failed, cancelled, or pending when the wait ran out first.",
    ["task", "outcome"],
)
WAIT_SECONDS = Histogram(
    "taskgate_task_wait_seconds",
    "Time from a run request's arrival to its answer, queue time included, by task type.",
    ["task"],
    buckets=_SECONDS,
)
WAITING_TASKS = Gauge(
    "taskgate_waiting_tasks",
    "Tasks requests are waiting for or following, sampled every second (summed over the api's processes).",
    multiprocess_mode="livesum",
)
WAITING_CAPACITY = Gauge(
    "taskgate_waiting_capacity",
    "Requests the api can hold open at once: each holds a connection, so each process's open-file limit, "
    "less a reserve for its own files and clients (summed over the api's processes).",
    multiprocess_mode="livesum",
)
#: Descriptors a process keeps for what is not a client's connection: Redis, RabbitMQ, its own files.
_FILE_RESERVE = 100

#: How often the waiting gauge is sampled: setting it on every request would cost each request twice.
_SAMPLE_SECONDS = 1.0
#: What the end of a wait is counted as.
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class TaskFigures:
    """One task type's labelled series, looked up once: a lookup costs every answer a lock and a check."""

    outcomes: dict[str, Counter]
    wait: Histogram

    @classmethod
    def of(cls, task: str) -> "TaskFigures":
        names = [state.value for state in TaskState if state.terminal] + [PENDING]
        return cls({name: OUTCOMES.labels(task, name) for name in names}, WAIT_SECONDS.labels(task))

    def answered(self, outcome: str, waited: float) -> None:
        self.outcomes[outcome].inc()
        self.wait.observe(waited)


@cache
def figures(task: str) -> TaskFigures:
    return TaskFigures.of(task)


async def report_waiting(waiting: Callable[[], int]) -> None:
    """Keep the waiting gauge current until cancelled; the capacity it is held to is set once."""
    soft_limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    WAITING_CAPACITY.set(max(soft_limit - _FILE_RESERVE, 0))
    while True:
        WAITING_TASKS.set(waiting())
        await asyncio.sleep(_SAMPLE_SECONDS)


class _Queues(Collector):
    def __init__(self, states: Iterable[QueueState]) -> None:
        self._states = list(states)

    def collect(self) -> Iterator[Metric]:
        messages = GaugeMetricFamily(
            "taskgate_queue_messages",
            "Messages ready in each task queue, as RabbitMQ counts them.",
            labels=["queue"],
        )
        consumers = GaugeMetricFamily(
            "taskgate_queue_consumers",
            "Workers consuming each task queue; 0 means its tasks wait.",
            labels=["queue"],
        )
        for state in self._states:
            if state.messages is not None:
                messages.add_metric([state.queue], state.messages)
            if state.consumers is not None:
                consumers.add_metric([state.queue], state.consumers)
        yield messages
        yield consumers


def exposition(queues: Iterable[QueueState]) -> bytes:
    """Every metric in Prometheus's text format, the task queues' state included; under
    `taskgate-api --workers N`, summed over the processes through the directory the supervisor gives."""
    if METRICS_DIR_VARIABLE in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry) + generate_latest(_only(_Queues(queues)))
    return generate_latest() + generate_latest(_only(_Queues(queues)))


def _only(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
