"""Serving the api with uvicorn in this process.

Arrival is stamped by the HTTP parser the moment a request's first byte is parsed, so a request's
deadline and its `time` do not depend on how long it then waited for the event loop behind others.

The garbage collector is tuned for thousands of requests in flight, each a few hundred objects that
live for seconds: with CPython's defaults a full collection walked all of them every second or two
(measured under 5,000 waiting clients: 18 full collections in 25 s, 2.2 s of a core, pauses up to
0.25 s). Reference counting frees nearly all a request makes, so young collections run every 50,000
allocations instead of 700, and full ones only after 5,000 young ones; what the process holds from
the start is frozen out of them altogether.
"""

import asyncio
import gc
import time
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from taskgate_api.app import stop_waiting
from taskgate_api.http.arrival import RECEIVED_AT
from taskgate_api.server.prefork import Listen, shared_port_socket


class CoalescingTransport:
    """A connection's transport that sends a response's head together with its body.

    uvicorn writes them separately; each write is a system call and a TCP segment of its own, which
    under a wave of thousands of answers due at once cost more than building the answers. A write is
    held until the next one, which takes it along, or until the end of the event loop's turn.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = data
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            held, self._held = self._held, None
            self._transport.write(held + data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, stamping each request's arrival into its scope's state, and writing
    each answer with one system call."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self.transport = CoalescingTransport(self.transport)  # type: ignore[assignment]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["state"][RECEIVED_AT] = time.monotonic()


class _Server(uvicorn.Server):
    """uvicorn, but a stop signal first answers every waiting request (`pending`, with its task id),
    so clients are not left waiting up to TASK_TIMEOUT for a process that is going away."""

    def __init__(self, app: FastAPI, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stop_waiting(self._app)
        super().handle_exit(sig, frame)


#: Young collections after this many allocations, middle ones after that many young ones, full ones
#: after that many middle ones (CPython's defaults: 700, 10, 10).
_GC_THRESHOLDS = (50_000, 50, 100)


def serve(listen: Listen, app: FastAPI, reuse_port: bool) -> None:
    """Serve `app` until a stop signal; with `reuse_port`, other processes may serve the same port."""
    sockets = None
    if reuse_port:
        sock = shared_port_socket(listen.host, listen.port)
        sock.listen(listen.backlog)
        sockets = [sock]
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    config = uvicorn.Config(
        app,
        host=listen.host,
        port=listen.port,
        log_level=listen.log_level,
        backlog=listen.backlog,
        http=HttpProtocol,
        # The api's own line per request (`http.requestlog`) replaces uvicorn's access log, and its
        # logging setup (`logs`) uvicorn's: uvicorn's lines go through the same handler.
        access_log=False,
        log_config=None,
    )
    _Server(app, config).run(sockets=sockets)
