"""`POST /process`: the seed's request — queue a job and answer with its outcome, or `pending`."""

import math
import time

from fastapi import APIRouter, Response

from taskgate_api import metrics
from taskgate_api.config import ApiSettings
from taskgate_api.dependencies import IdempotencyKey, ReceivedAt, ServicesDep
from taskgate_api.errors import validation_error
from taskgate_api.responses import model_response
from taskgate_contracts import (
    PROCESS,
    CompletedResponse,
    FailedResponse,
    PendingResponse,
    ProcessArgs,
    ProcessRequest,
    ServiceUnavailableResponse,
    TaskState,
    ValidationErrorResponse,
)

router = APIRouter(tags=["process"])


def checked_delay(body: ProcessRequest, settings: ApiSettings) -> float:
    """The body's delay, refused with a 422 when it is above MAX_DELAY."""
    if body.delay > settings.max_delay:
        raise validation_error(
            ("body", "delay"),
            f"Input should be less than or equal to {settings.max_delay:g} (MAX_DELAY)",
            "less_than_equal",
        )
    return body.delay


@router.post(
    "/process",
    summary="Run a job and wait for its outcome",
    description=(
        "Queues the job and waits up to TASK_TIMEOUT seconds for it. `time` counts from the moment the "
        "request arrived, queue time included. A job that does not finish in time keeps running: the "
        "answer is `pending`, with `Location` pointing at the task."
    ),
    response_model=CompletedResponse,
    responses={
        202: {"model": PendingResponse, "description": "Not finished within TASK_TIMEOUT; still running."},
        422: {"model": ValidationErrorResponse, "description": "The body is not a valid job."},
        500: {"model": FailedResponse, "description": "The job failed or ran past its time limit."},
        503: {"model": ServiceUnavailableResponse, "description": "RabbitMQ or Redis is unreachable."},
    },
)
async def process(
    body: ProcessRequest,
    services: ServicesDep,
    received_at: ReceivedAt,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    settings = services.settings
    args = ProcessArgs(delay=checked_delay(body, settings))
    submission = await services.submitter.submit_and_wait(
        PROCESS, args, deadline=received_at + settings.task_timeout, idempotency_key=idempotency_key
    )
    elapsed = time.monotonic() - received_at
    task_id, outcome = submission.task_id, submission.outcome
    if outcome is None:
        metrics.ANSWERED_PENDING.inc()
        if settings.on_timeout == "cancel":
            await services.records.cancel(task_id)
        retry_after = max(1, math.ceil(min(body.delay - elapsed, settings.task_timeout)))
        return model_response(
            PendingResponse(time=elapsed, task_id=task_id),
            202,
            {"Location": f"/tasks/{task_id}", "Retry-After": str(retry_after)},
        )
    if outcome.task_state is TaskState.COMPLETED:
        metrics.ANSWERED_COMPLETED.inc()
        return model_response(
            CompletedResponse(result=outcome.result_text, time=elapsed, task_id=task_id), 200
        )
    metrics.ANSWERED_FAILED.inc()
    return model_response(FailedResponse(error=outcome.error, time=elapsed, task_id=task_id), 500)
