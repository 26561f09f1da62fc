"""Prometheus metrics the api exposes on /metrics: requests by route and code, and the task figures."""

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
WAIT_SECONDS = Histogram(
    "taskgate_result_wait_seconds",
    "Time a request waited for its task's outcome after sending it.",
    buckets=_SECONDS,
)
WAITING_TASKS = Gauge(
    "taskgate_waiting_tasks", "Tasks requests in this process are waiting for or following."
)

#: The route label of requests that matched no route, so unknown paths cannot grow the label set.
_UNMATCHED = "unmatched"


class CountRequests:
    """Counts every answer by its route's path template (not the raw path) and status code."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
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
            REQUESTS.labels(scope["method"], route, str(code)).inc()
            REQUEST_SECONDS.labels(route).observe(time.monotonic() - started)
