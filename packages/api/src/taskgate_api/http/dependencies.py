"""What routes get injected: the settings and the long-lived clients made in the lifespan."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status

from taskgate_api.apikeys import ADMIN, ApiKey
from taskgate_api.config import ApiSettings
from taskgate_api.engine.deadletters import DeadLetters
from taskgate_api.engine.following import TaskFeeds
from taskgate_api.engine.history import TaskHistory
from taskgate_api.engine.ratelimits import RateLimiter
from taskgate_api.engine.readiness import Readiness
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.submitting import Submitter
from taskgate_api.engine.tasktypes import TaskTypes
from taskgate_api.engine.webhooks import Webhooks
from taskgate_api.http.arrival import RECEIVED_AT
from taskgate_api.http.guards import API_KEY
from taskgate_contracts import IDEMPOTENCY_HEADER
from taskgate_contracts.destinations import MAX_URL_LENGTH


@dataclass(frozen=True, slots=True)
class Services:
    settings: ApiSettings
    task_types: TaskTypes
    records: TaskRecords
    history: TaskHistory
    rate_limiter: RateLimiter
    dead_letters: DeadLetters
    submitter: Submitter
    webhooks: Webhooks
    #: One reader of each followed task's events, shared by its followers (`GET /tasks/{id}/events`).
    feeds: TaskFeeds
    readiness: Readiness


def api_key(request: Request) -> ApiKey | None:
    """The key the request was made with; None when the api takes no keys (API_KEYS unset)."""
    key: ApiKey | None = request.scope["state"].get(API_KEY)
    return key


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: the key (None without keys, when everything is open)."""

    key: ApiKey | None

    @property
    def sees_all(self) -> bool:
        return self.key is None or self.key.role == ADMIN

    @property
    def owner(self) -> str | None:
        """The key name a client's tasks are filtered by; None for a caller who sees every task."""
        return None if self.key is None or self.sees_all else self.key.name

    def may_see(self, submitted_by: str | None) -> bool:
        return self.sees_all or submitted_by == self.owner


async def _caller(request: Request) -> Caller:
    return Caller(api_key(request))


async def _admin(request: Request) -> Caller:
    caller = Caller(api_key(request))
    if not caller.sees_all:
        assert caller.key is not None
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"this operation needs an admin key; key {caller.key.name!r} is a client",
        )
    return caller


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _received_at(request: Request) -> float:
    received: float = getattr(request.state, RECEIVED_AT)
    return received


ServicesDep = Annotated[Services, Depends(_services)]
CallerDep = Annotated[Caller, Depends(_caller)]
#: The caller, who must hold an admin key when the api takes keys (403 otherwise).
AdminDep = Annotated[Caller, Depends(_admin)]
#: `time.monotonic()` when the request arrived, stamped as it was parsed (see `arrival`).
ReceivedAt = Annotated[float, Depends(_received_at)]
#: The optional `Idempotency-Key` header of the POSTs that submit a task.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="The same key attaches to the same task; it runs once.",
        min_length=1,
        max_length=255,
        # Visible ASCII, spaces only inside: what survives every proxy unchanged.
        pattern=r"^[!-~]([ -~]*[!-~])?$",
    ),
]
#: The optional `callback_url` query parameter of the POSTs that submit a task.
CallbackUrl = Annotated[
    str | None,
    Query(
        description="Once the task ends, its view (as `GET /tasks/{task_id}` gives it) is posted here, "
        "signed per Standard Webhooks with your key's secret. http or https, to a destination "
        "WEBHOOK_ALLOWED_HOSTS allows; `GET /tasks/{task_id}` shows the delivery's attempts.",
        min_length=1,
        max_length=MAX_URL_LENGTH,
        examples=["https://hooks.example.com/taskgate"],
    ),
]
