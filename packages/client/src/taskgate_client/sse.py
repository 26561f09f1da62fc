"""The Server-Sent Events wire format, decoded as the HTML standard defines it.

Written by hand rather than through a line iterator because SSE splits lines on CR, LF and CRLF only:
`str.splitlines` also splits on U+2028 and friends, which may appear unescaped inside a JSON `data:` line.
"""

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. `id` is the stream's last event id at the time, as the standard keeps it."""

    event: str
    data: str
    id: str


class ServerSentEventDecoder:
    """Turns the bytes of one connection into events; an event cut off by the connection's end is dropped."""

    def __init__(self, last_event_id: str = "") -> None:
        #: The id a reconnection resumes after: set when an event is dispatched, not when `id:` is read,
        #: so a connection cut in the middle of an event resumes before it.
        self.last_event_id = last_event_id
        self._id = last_event_id
        #: The reconnection time in milliseconds the server asked for with `retry:`, if it did.
        self.retry_ms: int | None = None
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._started = False
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._pending + self._text.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        events = []
        start = 0
        while True:
            cr, lf = text.find("\r", start), text.find("\n", start)
            if cr == -1 and lf == -1:
                break
            if cr != -1 and (lf == -1 or cr < lf):
                if cr == len(text) - 1:
                    break  # the LF of a CRLF may be in the next chunk
                end, next_start = cr, cr + (2 if text[cr + 1] == "\n" else 1)
            else:
                end, next_start = lf, lf + 1
            event = self._line(text[start:end])
            if event is not None:
                events.append(event)
            start = next_start
        self._pending = text[start:]
        return events

    def close(self) -> list[ServerSentEvent]:
        """The connection ended: a final line ended by a lone CR still counts."""
        if not self._pending.endswith("\r"):
            return []
        event = self._line(self._pending[:-1])
        self._pending = ""
        return [] if event is None else [event]

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: servers send them as heartbeats
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event, data = self._event, self._data
        self._event, self._data = "", []
        self.last_event_id = self._id
        if not data:
            return None
        return ServerSentEvent(event=event or "message", data="\n".join(data), id=self.last_event_id)
