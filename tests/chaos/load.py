"""Client load on the live api: requests sent at a steady rate, every answer kept for the ledger."""

import asyncio
import time
from typing import Any

import httpx

from tests.chaos.ledger import Answer

#: Enough connections that no request waits for a free one: the load measures the api, not the pool.
_LIMITS = httpx.Limits(max_connections=2000, max_keepalive_connections=200)


class Load:
    """Clients of one api. Times in answers and faults count from the creation of the load."""

    def __init__(self, url: str, timeout: float) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=timeout, limits=_LIMITS)
        self.started = time.monotonic()
        self.answers: list[Answer] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    async def request(self, path: str, body: dict[str, Any]) -> Answer:
        sent = time.monotonic()
        try:
            response = await self.client.post(path, json=body)
        except httpx.TransportError as exc:
            answer = Answer(sent - self.started, time.monotonic() - sent, None, detail=repr(exc))
        else:
            answer = _answer(response, sent - self.started, time.monotonic() - sent)
        self.answers.append(answer)
        return answer

    async def burst(self, count: int, rate: float, path: str, body: dict[str, Any]) -> None:
        """Send `count` requests, `rate` a second, without waiting for answers before sending the next."""
        began = time.monotonic()
        async with asyncio.TaskGroup() as requests:
            for index in range(count):
                await asyncio.sleep(max(0.0, began + index / rate - time.monotonic()))
                requests.create_task(self.request(path, body))

    async def aclose(self) -> None:
        await self.client.aclose()


def _answer(response: httpx.Response, sent_at: float, seconds: float) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    fields = body if isinstance(body, dict) else {}
    task_id = fields.get("task_id")
    return Answer(
        sent_at,
        seconds,
        response.status_code,
        task_id if isinstance(task_id, str) else None,
        response.headers.get("retry-after"),
        # An HTML error page (a balancer's) on one line.
        str(fields.get("detail") or fields.get("status") or " ".join(response.text.split())[:200]),
    )
