"""Thousands of Server-Sent Event streams held at once, on the client's connections (bench/client.py).

Each follower sends `GET /tasks/{id}/events` on a connection of its own and reads the chunked stream to
its end, keeping each event's type, id and the wall-clock time its chunk arrived. Nothing else is parsed:
the `data:` lines (the task's state) are skipped, so the client spends little per event. The ids of
logged events are Redis stream entry ids, `<milliseconds>-<sequence>`, given by Redis when the worker's
report was written, on this machine's clock: the time from a report to its receipt is the arrival time
less that.
"""

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.client import Connection, close_all, open_connections


@dataclass(frozen=True, slots=True)
class Received:
    type: str
    id: str
    #: `time.time()` when the chunk holding the event was read.
    at: float


@dataclass(slots=True)
class Followed:
    """One follower's stream: its HTTP status, its events in the order they came, and why it broke."""

    task_id: str
    status: int = 0
    events: list[Received] = field(default_factory=list)
    error: str = ""


def stream_time(event_id: str) -> float | None:
    """When Redis logged the event (seconds since the epoch), from its stream id; None for other ids."""
    millis, dash, sequence = event_id.partition("-")
    if not dash or not millis.isdigit() or not sequence.isdigit():
        return None
    return int(millis) / 1000


def parse_events(buffer: bytes, at: float, into: list[Received]) -> bytes:
    """Append the whole events in `buffer` to `into`; the bytes left of an event still incomplete."""
    *blocks, rest = buffer.replace(b"\r\n", b"\n").split(b"\n\n")
    for block in blocks:
        kind, event_id = "message", ""
        for line in block.split(b"\n"):
            name, _, value = line.partition(b":")
            if name == b"event":
                kind = value.strip().decode()
            elif name == b"id":
                event_id = value.strip().decode()
        if event_id:  # a block with neither (the heartbeat, a comment) is not an event of the task
            into.append(Received(kind, event_id, at))
    return rest


async def _read_stream(connection: Connection, followed: Followed) -> None:
    reader = connection.reader
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    followed.status = int(status_line.split(" ", 2)[1])
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)
    }
    if headers.get("transfer-encoding") != "chunked":
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length)
        followed.error = body.decode(errors="replace")[:300]
        return
    buffer = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return
        buffer = parse_events(buffer + chunk[:-2], time.time(), followed.events)


async def _follow(connection: Connection, url: str, followed: Followed) -> None:
    host = urlsplit(url).netloc
    request = (
        f"GET /tasks/{followed.task_id}/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
    )
    connection.writer.write(request.encode())
    try:
        await _read_stream(connection, followed)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
        followed.error = f"stream broken: {exc!r}"


async def follow(url: str, task_ids: list[str]) -> list[Followed]:
    """A follower per entry of `task_ids` (repeat an id for several followers of a task), each on a
    connection of its own; returns when every stream has ended."""
    connections = await open_connections(url, len(task_ids))
    followers = [Followed(task_id) for task_id in task_ids]
    try:
        await asyncio.gather(
            *(
                _follow(connection, url, followed)
                for connection, followed in zip(connections, followers, strict=True)
            )
        )
    finally:
        await close_all(connections)
    return followers
