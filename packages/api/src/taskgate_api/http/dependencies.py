"""What routes get injected: the settings and the long-lived clients made in the lifespan."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from taskgate_api.config import ApiSettings
from taskgate_api.engine.following import TaskFeeds
from taskgate_api.engine.readiness import Readiness
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.submitting import Submitter
from taskgate_api.engine.tasktypes import TaskTypes
from taskgate_api.http.arrival import RECEIVED_AT
from taskgate_contracts import IDEMPOTENCY_HEADER


@dataclass(frozen=True, slots=True)
class Services:
    settings: ApiSettings
    task_types: TaskTypes
    records: TaskRecords
    submitter: Submitter
    #: One reader of each followed task's events, shared by its followers (`GET /tasks/{id}/events`).
    feeds: TaskFeeds
    readiness: Readiness


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _received_at(request: Request) -> float:
    received: float = getattr(request.state, RECEIVED_AT)
    return received


ServicesDep = Annotated[Services, Depends(_services)]
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
