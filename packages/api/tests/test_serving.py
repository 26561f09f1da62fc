"""How `taskgate-api` writes answers: a response's head and body leave together."""

import asyncio

from taskgate_api.server.serving import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


async def test_head_and_body_leave_in_one_write() -> None:
    raw = RecordingTransport()
    transport = CoalescingTransport(raw)
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"{}")
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    await asyncio.sleep(0)
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]


async def test_a_lone_write_leaves_at_the_end_of_the_turn() -> None:
    raw = RecordingTransport()
    transport = CoalescingTransport(raw)
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert raw.writes == []
    await asyncio.sleep(0)
    assert raw.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]


async def test_closing_sends_what_is_held_first() -> None:
    raw = RecordingTransport()
    transport = CoalescingTransport(raw)
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert raw.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"]
    assert raw.closed
    await asyncio.sleep(0)
    assert raw.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"]


async def test_everything_else_is_the_transport_s_own() -> None:
    raw = RecordingTransport()
    transport = CoalescingTransport(raw)
    assert transport.is_closing() is False
    raw.closed = True
    assert transport.is_closing() is True
