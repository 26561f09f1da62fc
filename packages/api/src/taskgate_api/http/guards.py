"""Guards in front of every route: an optional API key, and a bound on the request body.

A request with a known key carries the key's name and role in its scope state (`KEY_NAME`, `KEY_ROLE`,
read by the request log, the spans and the routes) and the key itself under `API_KEY` (read by the rate
limit and the submissions, for its limits); without API_KEYS none of them is set and everything is open.

Both are plain ASGI middleware, so they hold for every route — the OpenAPI document included — and
refuse a request before any of it is parsed.
"""

import hmac
import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskgate_api.apikeys import ApiKey
from taskgate_contracts.observability import KEY_NAME, KEY_ROLE

#: The scope state key of the `ApiKey` a request was made with.
API_KEY = "taskgate.api_key"

#: Where the documentation pages load Swagger UI's and ReDoc's files from (see `documentation`).
DOCS_ASSETS = "/docs/assets"
#: Routes anyone may call: a load balancer's liveness probe has no key, and a person must be able to read
#: the documentation — it holds no secret, and says how to authenticate. Trying an operation from
#: Swagger UI takes a key, given once through its Authorize button.
OPEN_PATHS = frozenset({"/healthz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})

_OPEN_PREFIX = DOCS_ASSETS + "/"


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(_OPEN_PREFIX)


async def refuse(
    send: Send, status: int, detail: str | dict[str, object], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with the JSON error `detail` (a sentence, or a whole error body) before any route runs."""
    body = json.dumps({"detail": detail} if isinstance(detail, str) else detail).encode()
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

    def __init__(self, app: ASGIApp, keys: list[ApiKey]) -> None:
        self.app = app
        self._keys = [(key.secret.get_secret_value().encode(), key) for key in keys]

    def _presented(self, scope: Scope) -> ApiKey | None:
        authorization = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, presented = authorization.partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        presented = presented.strip()
        # Every key is compared, so the time taken says nothing about which one nearly matched.
        found = None
        for secret, key in self._keys:
            if hmac.compare_digest(presented, secret):
                found = key
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = self._presented(scope)
        if key is not None:
            state = scope["state"]
            state[KEY_NAME], state[KEY_ROLE], state[API_KEY] = key.name, key.role, key
            await self.app(scope, receive, send)
            return
        await refuse(
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
            await refuse(send, 413, self._detail)
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
