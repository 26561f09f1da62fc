"""Stamping when a request arrived, so the `time` an answer reports includes everything the api did."""

import time

from starlette.types import ASGIApp, Receive, Scope, Send


class StampArrival:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["received_at"] = time.monotonic()
        await self.app(scope, receive, send)
