"""Guards in front of every route: an optional API key, and a bound on the request body.

Both are plain ASGI middleware, so they hold for every route — the OpenAPI document included — and
refuse a request before any of it is parsed.
"""

import hmac
import json

from fastapi import HTTPException
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Where the documentation pages load Swagger UI's and ReDoc's files from (see `documentation`).
DOCS_ASSETS = "/docs/assets"
#: Routes anyone may call: a load balancer's liveness probe has no key, and a person must be able to read
#: the documentation — it holds no secret, and says how to authenticate. Trying an operation from
#: Swagger UI takes a key, given once through its Authorize button.
OPEN_PATHS = frozenset({"/healthz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})

_OPEN_PREFIX = DOCS_ASSETS + "/"


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(_OPEN_PREFIX)


async def _refuse(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequireApiKey:
    """`Authorization: Bearer <key>` on every route but /healthz, compared in constant time."""

    def __init__(self, app: ASGIApp, keys: list[SecretStr]) -> None:
        self.app = app
        self._keys = [key.get_secret_value().encode() for key in keys]

    def _allowed(self, scope: Scope) -> bool:
        authorization = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, presented = authorization.partition(b" ")
        if scheme.lower() != b"bearer":
            return False
        # Every key is compared, so the time taken says nothing about which one nearly matched.
        matches = [hmac.compare_digest(presented.strip(), key) for key in self._keys]
        return any(matches)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope["path"]) or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        await _refuse(
            send,
            401,
            "a valid API key is required: Authorization: Bearer <key>",
            [(b"www-authenticate", b"Bearer")],
        )


class LimitBody:
    """Refuse request bodies over `limit` bytes with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self._limit = limit
        self._detail = f"the request body must be at most {limit} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self._limit):
            await _refuse(send, 413, self._detail)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._limit:
                    # Raised while the route reads its body; FastAPI answers it like any HTTPException.
                    raise HTTPException(413, self._detail)
            return message

        await self.app(scope, counting_receive, send)
