"""A lean HTTP/1.1 client on asyncio streams, for the scenarios wrk cannot measure.

Connections are opened before the clock starts and kept alive, and a request is a prebuilt byte string,
so the client spends its time waiting for the api, not on its own machinery: five thousand requests go
out in a few milliseconds.
"""

import asyncio
import json
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import uvloop

T = TypeVar("T")

#: Connections opened at a time: stays below the api's listen backlog, so no SYN is dropped and retried.
_OPEN_AT_ONCE = 256


#: The status of an answer that never came: the connection broke first.
NO_ANSWER = 0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    #: `time.monotonic()` when the request was written, and when its answer was read in full.
    sent_at: float
    answered_at: float

    @property
    def latency(self) -> float:
        return self.answered_at - self.sent_at


def post_request(url: str, path: str, payload: dict[str, Any]) -> bytes:
    """The bytes of one `POST path` with a JSON body, to send as many times as needed."""
    body = json.dumps(payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def drive(load: Coroutine[Any, Any, T]) -> T:
    """Run a load on uvloop: the cheaper the client's own loop, the more CPU is left to the api."""
    return uvloop.run(load)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> "Connection":
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> Answer:
        """The answer to `request`; status 0 when the connection broke before a whole answer came."""
        sent_at = time.monotonic()
        try:
            return await self._exchange(request, sent_at)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            return Answer(NO_ANSWER, {"text": f"connection broken: {exc!r}"}, sent_at, time.monotonic())

    async def _exchange(self, request: bytes, sent_at: float) -> Answer:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        answered_at = time.monotonic()
        return Answer(int(status_line.split(" ", 2)[1]), _parsed(body), sent_at, answered_at)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def _parsed(body: bytes) -> dict[str, Any]:
    """The JSON object answered; anything else (a plain-text 500, say) as its text, to be reported."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"text": body.decode(errors="replace")[:300]}


async def open_connections(url: str, count: int) -> list[Connection]:
    connections: list[Connection] = []
    while len(connections) < count:
        batch = min(_OPEN_AT_ONCE, count - len(connections))
        connections += await asyncio.gather(*(Connection.open(url) for _ in range(batch)))
    return connections


async def close_all(connections: Iterable[Connection]) -> None:
    await asyncio.gather(*(connection.close() for connection in connections), return_exceptions=True)


async def sequential(url: str, request: bytes, count: int, warmup: int) -> list[Answer]:
    """`count` requests one after the other on one connection, after `warmup` unmeasured ones."""
    (connection,) = await open_connections(url, 1)
    try:
        for _ in range(warmup):
            await connection.send(request)
        return [await connection.send(request) for _ in range(count)]
    finally:
        await close_all([connection])


async def burst(url: str, request: bytes, count: int) -> list[Answer]:
    """`count` requests sent at once, each on a connection opened beforehand."""
    connections = await open_connections(url, count)
    try:
        return await asyncio.gather(*(connection.send(request) for connection in connections))
    finally:
        await close_all(connections)


async def closed_loop(url: str, request: bytes, clients: int, seconds: float) -> list[Answer]:
    """`clients` connections each sending a request as soon as the last is answered, for `seconds`.

    Requests still open when the time is up are waited for, so every job started is counted.
    """
    connections = await open_connections(url, clients)
    stop_at = time.monotonic() + seconds

    async def client(connection: Connection) -> list[Answer]:
        answers = []
        while time.monotonic() < stop_at:
            answers.append(await connection.send(request))
        return answers

    try:
        per_client = await asyncio.gather(*(client(connection) for connection in connections))
    finally:
        await close_all(connections)
    return [answer for answers in per_client for answer in answers]
