"""Counting and timing every answer for /metrics, by route template and status code."""

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskgate_api.http.arrival import arrived
from taskgate_api.metrics import REQUEST_SECONDS, REQUESTS

#: The route label of requests that matched no route, so unknown paths cannot grow the label set.
_UNMATCHED = "unmatched"


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
