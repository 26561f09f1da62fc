"""Prometheus metrics the api exposes on /metrics: requests by route and code, and the task figures."""

import asyncio
import os
import time
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskgate_api.arrival import arrived
from taskgate_api.supervisor import METRICS_DIR_VARIABLE

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
TASKS_SUBMITTED = Counter("taskgate_tasks_submitted", "Tasks sent to RabbitMQ.", ["task"])
OUTCOMES = Counter("taskgate_process_outcomes", "Answers of POST /process by outcome.", ["outcome"])
ANSWERED_COMPLETED, ANSWERED_PENDING, ANSWERED_FAILED = (
    OUTCOMES.labels(outcome=outcome) for outcome in ("completed", "pending", "failed")
)
WAITING_TASKS = Gauge(
    "taskgate_waiting_tasks",
    "Tasks requests are waiting for or following, sampled every second (summed over the api's processes).",
    multiprocess_mode="livesum",
)

#: The route label of requests that matched no route, so unknown paths cannot grow the label set.
_UNMATCHED = "unmatched"
#: How often the waiting gauge is sampled: setting it on every request would cost each request twice.
_SAMPLE_SECONDS = 1.0


async def report_waiting(waiting: Callable[[], int]) -> None:
    """Keep the waiting gauge current until cancelled."""
    while True:
        WAITING_TASKS.set(waiting())
        await asyncio.sleep(_SAMPLE_SECONDS)


def exposition() -> bytes:
    """Every metric in Prometheus's text format; under `taskgate-api --workers N`, summed over the
    processes, through the directory the supervisor gives them."""
    if METRICS_DIR_VARIABLE not in os.environ:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


class CountRequests:
    """Counts every answer by its route's path template (not the raw path) and status code, and times
    it from the request's arrival, which it stamps when the server has not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The labelled series, found once each: looking them up costs every request a lock and a check.
        self._counted: dict[tuple[str, str, str], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received_at = arrived(scope)
        code = 500

        async def send_counting(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = getattr(scope.get("route"), "path", _UNMATCHED)
            labels = (scope["method"], route, str(code))
            counted = self._counted.get(labels)
            if counted is None:
                counted = self._counted[labels] = REQUESTS.labels(*labels)
            timed = self._timed.get(route)
            if timed is None:
                timed = self._timed[route] = REQUEST_SECONDS.labels(route)
            counted.inc()
            timed.observe(time.monotonic() - received_at)
