"""Per-key limits as HTTP: 429 answers and the RateLimit header fields.

The fields follow draft-ietf-httpapi-ratelimit-headers-10 (September 2025): `RateLimit-Policy` lists a
key's quota policies as Structured Field items (`"rate";q=10;w=1`), `RateLimit` the one a request
counted against, with what is left (`r`) and the seconds until it is restored (`t`). A key has up to two
policies: `rate` (requests per second, on every answer to that key) and `in-flight` (tasks queued or
running, whose quota unit is concurrent work rather than requests; on a 429 that it caused).
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskgate_api.apikeys import ApiKey
from taskgate_api.engine.errors import ServiceUnavailableError
from taskgate_api.engine.ratelimits import RateDecision
from taskgate_api.http.answers import RETRY_AFTER_UNAVAILABLE
from taskgate_api.http.guards import API_KEY, refuse
from taskgate_contracts import ServiceUnavailableResponse, TooManyRequestsResponse

RATE_POLICY = "rate"
IN_FLIGHT_POLICY = "in-flight"
#: Seconds a key over its in-flight limit is told to wait: when one of its tasks ends is not known.
RETRY_AFTER_IN_FLIGHT = 5


def policies(key: ApiKey) -> str | None:
    """The key's `RateLimit-Policy` field value; None for a key without limits."""
    items = []
    if key.rate is not None:
        items.append(f'"{RATE_POLICY}";q={key.rate};w=1')
    if key.in_flight is not None:
        items.append(f'"{IN_FLIGHT_POLICY}";q={key.in_flight};qu="concurrent-requests"')
    return ", ".join(items) or None


def rate_headers(key: ApiKey, decision: RateDecision) -> list[tuple[str, str]]:
    headers = [("RateLimit", f'"{RATE_POLICY}";r={decision.remaining};t={decision.reset_after}')]
    policy = policies(key)
    if policy is not None:
        headers.append(("RateLimit-Policy", policy))
    if not decision.allowed:
        headers.append(("Retry-After", str(max(decision.reset_after, 1))))
    return headers


def in_flight_headers(key: ApiKey) -> dict[str, str]:
    """The headers of the 429 refusing a task over the key's in-flight limit. A key with a rate has its
    `RateLimit-Policy` added by `LimitRate`, with a second `RateLimit` field for the rate's item (a list
    may be split over several fields)."""
    headers = {"RateLimit": f'"{IN_FLIGHT_POLICY}";r=0', "Retry-After": str(RETRY_AFTER_IN_FLIGHT)}
    policy = policies(key)
    if policy is not None and key.rate is None:
        headers["RateLimit-Policy"] = policy
    return headers


def over_rate(key: ApiKey) -> TooManyRequestsResponse:
    assert key.rate is not None
    return TooManyRequestsResponse(
        detail=f"key {key.name!r} is over its limit of {key.rate} requests per second",
        policy="rate",
        limit=key.rate,
    )


def over_in_flight(key: ApiKey) -> TooManyRequestsResponse:
    assert key.in_flight is not None
    return TooManyRequestsResponse(
        detail=f"key {key.name!r} has {key.in_flight} tasks queued or running, its limit; "
        "wait for one to finish (or cancel one)",
        policy="in-flight",
        limit=key.in_flight,
    )


class LimitRate:
    """Counts each request of a key that has a `rate`, refuses it with 429 past the limit, and tells the
    key where it stands on every answer. Inside `RequireApiKey`, which names the key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key: ApiKey | None = scope.get("state", {}).get(API_KEY) if scope["type"] == "http" else None
        if key is None or key.rate is None:
            await self.app(scope, receive, send)
            return
        limiter = scope["app"].state.services.rate_limiter
        try:
            decision: RateDecision = await limiter.hit(key.name, key.rate)
        except ServiceUnavailableError as exc:
            body = ServiceUnavailableResponse(service=exc.service, detail=exc.detail)
            await refuse(send, 503, body.model_dump(), [(b"retry-after", RETRY_AFTER_UNAVAILABLE.encode())])
            return
        headers = [(name.lower().encode(), value.encode()) for name, value in rate_headers(key, decision)]
        if not decision.allowed:
            await refuse(send, 429, over_rate(key).model_dump(), headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
