"""What routes get injected: the settings and the long-lived clients made in the lifespan."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from taskgate_api.config import ApiSettings
from taskgate_api.engine.readiness import Readiness
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.submitting import Submitter
from taskgate_api.engine.tasktypes import TaskTypes
from taskgate_api.engine.webhooks import Webhooks
from taskgate_api.http.arrival import RECEIVED_AT
from taskgate_contracts import IDEMPOTENCY_HEADER
from taskgate_contracts.destinations import MAX_URL_LENGTH


@dataclass(frozen=True, slots=True)
class Services:
    settings: ApiSettings
    task_types: TaskTypes
    records: TaskRecords
    submitter: Submitter
    webhooks: Webhooks
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
