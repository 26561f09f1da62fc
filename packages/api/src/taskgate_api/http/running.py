"""The two things every task type's HTTP operations do: queue a task and answer at once, or queue it and
wait up to TASK_TIMEOUT for its outcome. The seed's `POST /process` and `POST /tasks` go through the
same two functions."""

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from taskgate_api import metrics
from taskgate_api.engine.errors import TaskFinishedError
from taskgate_api.engine.tasktypes import TaskType
from taskgate_api.http.answers import model_response
from taskgate_api.http.dependencies import Services, api_key
from taskgate_api.http.errors import validation_error
from taskgate_api.http.requestlog import note_task
from taskgate_contracts import FailedResponse, PendingResponse, SubmittedResponse, TaskLinks, TaskState

#: Seconds a client told `pending` should wait before it looks again (or long-polls `?wait=` at once).
RETRY_AFTER_PENDING = "5"

#: Builds the `200` answer from what the task returned, the seconds since arrival and the task id.
Completed = Callable[[Any, float, str], Response]

#: `PendingResponse` as JSON up to its `time`, made once: everything before it is the same in every answer.
_PENDING_HEAD = (
    PendingResponse.model_construct(time=0.0, task_id="")
    .model_dump_json(exclude={"time", "task_id"})[:-1]
    .encode()
    + b',"time":'
)


class PendingAnswer(Response):
    """The `pending` answer, `PendingResponse` as JSON with its constant part encoded once.

    A burst's waiters fall due together, thousands within milliseconds, so what each answer costs
    decides how late the last one leaves: this one is a few byte joins instead of a model, its
    validation and its serialisation, and a header list made directly instead of from a mapping.
    """

    media_type = "application/json"

    def __init__(self, elapsed: float, task_id: str) -> None:
        self.status_code = 202
        self.background = None
        # Python's shortest float repr is pydantic's; field order as in the model.
        self.body = b'%s%r,"task_id":%s}' % (_PENDING_HEAD, elapsed, json.dumps(task_id).encode())
        self.raw_headers = [
            (b"location", f"/tasks/{task_id}".encode()),
            (b"retry-after", RETRY_AFTER_PENDING.encode()),
            (b"content-length", b"%d" % len(self.body)),
            (b"content-type", b"application/json"),
        ]


def checked_callback(services: Services, callback_url: str | None) -> str | None:
    """The task's callback URL once WEBHOOK_ALLOWED_HOSTS allows it; a 422 naming what is wrong when not.
    Its deliveries are signed with the secret of the request's key (the record names the key)."""
    if callback_url is not None:
        try:
            services.webhooks.policy.destination(callback_url)
        except ValueError as exc:
            raise validation_error(("query", "callback_url"), str(exc), "url_not_allowed") from None
    return callback_url


async def submit(
    services: Services,
    request: Request,
    task_type: TaskType,
    args: BaseModel,
    idempotency_key: str | None,
    callback_url: str | None,
) -> Response:
    callback = checked_callback(services, callback_url)
    task_id = await services.submitter.submit(
        task_type.spec, args, idempotency_key, api_key(request), callback
    )
    note_task(request.scope["state"], task_id, task_type.name)
    links = TaskLinks.for_task(task_id)
    return model_response(SubmittedResponse(task_id=task_id, links=links), 202, {"Location": links.self})


async def run(
    services: Services,
    request: Request,
    task_type: TaskType,
    args: BaseModel,
    received_at: float,
    idempotency_key: str | None,
    callback_url: str | None,
    completed: Completed,
) -> Response:
    settings = services.settings
    callback = checked_callback(services, callback_url)
    submission = await services.submitter.submit_and_wait(
        task_type.spec,
        args,
        deadline=received_at + settings.task_timeout,
        idempotency_key=idempotency_key,
        key=api_key(request),
        callback_url=callback,
    )
    elapsed = time.monotonic() - received_at
    task_id, outcome = submission.task_id, submission.outcome
    note_task(request.scope["state"], task_id, task_type.name)
    figures = metrics.figures(task_type.name)
    if outcome is None:
        figures.answered(metrics.PENDING, elapsed)
        if settings.on_timeout == "cancel":
            await _cancel(services, task_id)
        return PendingAnswer(elapsed, task_id)
    state = outcome.task_state
    figures.answered(state.value, elapsed)
    if state is TaskState.COMPLETED:
        return completed(outcome.result, elapsed, task_id)
    return model_response(FailedResponse(error=outcome.error, time=elapsed, task_id=task_id), 500)


async def _cancel(services: Services, task_id: str) -> None:
    with contextlib.suppress(TaskFinishedError):  # it finished as the wait ran out: nothing to cancel
        await services.records.cancel(task_id)
        await services.webhooks.task_ended(task_id)
