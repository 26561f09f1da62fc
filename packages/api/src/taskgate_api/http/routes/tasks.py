"""`/tasks/{task_id}`: follow a task of any type — its state, a wait for its end, its events, its
cancellation."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Response, status
from sse_starlette import EventSourceResponse

from taskgate_api.engine.errors import ServiceUnavailableError, TaskFinishedError, TaskGoneError
from taskgate_api.engine.following import FINAL_EVENT_ID, task_events
from taskgate_api.http.answers import model_response
from taskgate_api.http.dependencies import Caller, CallerDep, ReceivedAt, Services, ServicesDep
from taskgate_api.http.errors import validation_error
from taskgate_contracts import (
    ConflictResponse,
    GoneResponse,
    NotFoundResponse,
    ServiceUnavailableResponse,
    TaskView,
    ValidationErrorResponse,
)

router = APIRouter(prefix="/tasks", tags=["tasks"])

Responses = dict[int | str, dict[str, Any]]
#: The ids this stream gives its events: Redis stream entry ids, and `final` for the last one.
_EVENT_ID = rf"^(\d{{1,20}}-\d{{1,20}}|{FINAL_EVENT_ID})$"
_NOT_FOUND: Responses = {
    404: {
        "model": NotFoundResponse,
        "description": "No task of this id was ever submitted (or, to a client key, another key's task).",
    },
    410: {
        "model": GoneResponse,
        "description": "The task existed, but its record has expired (RESULT_EXPIRES).",
    },
}
_UNAVAILABLE: Responses = {
    503: {"model": ServiceUnavailableResponse, "description": "RabbitMQ or Redis is unreachable."}
}
_INVALID: Responses = {422: {"model": ValidationErrorResponse, "description": "The request is not valid."}}


def _is_stream_id(event_id: str) -> bool:
    """Both halves of a Redis stream id are unsigned 64-bit numbers."""
    return all(int(part) < 2**64 for part in event_id.split("-"))


def _not_found(task_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} was never submitted")


def known_id(task_id: str) -> str:
    """Only ids the api hands out are looked up; anything else was never submitted."""
    try:
        return str(uuid.UUID(task_id))
    except ValueError:
        raise _not_found(task_id) from None


async def _missing(task_id: str, services: Services, caller: Caller) -> Exception:
    """Why a task has no view: 410 when its tombstone says it expired (and the caller may know of it),
    404 when it never existed — or is another client's."""
    owner = await services.records.tombstone(task_id)
    if owner is not None and caller.may_see(owner or None):
        return TaskGoneError(task_id, services.settings.result_expires)
    return _not_found(task_id)


async def _visible(task_id: str, services: Services, caller: Caller) -> TaskView:
    """The task's view, if the caller may see it: a client key sees only the tasks it submitted, and
    another's is a 404, as if it did not exist."""
    view = await services.records.view(task_id)
    if view is None:
        raise await _missing(task_id, services, caller)
    if not caller.may_see(view.submitted_by):
        raise _not_found(task_id)
    return view


@router.get(
    "/{task_id}",
    operation_id="get_task",
    summary="The state of a task",
    responses={**_NOT_FOUND, **_INVALID, **_UNAVAILABLE},
)
async def get_task(
    task_id: str,
    services: ServicesDep,
    caller: CallerDep,
    received_at: ReceivedAt,
    wait: Annotated[
        float | None,
        Query(
            ge=0,
            allow_inf_nan=False,
            description="Wait up to this many seconds (≤ TASK_TIMEOUT) for the end.",
        ),
    ] = None,
) -> TaskView:
    task_id = known_id(task_id)
    if wait and wait > services.settings.task_timeout:
        raise validation_error(
            ("query", "wait"),
            f"Input should be less than or equal to {services.settings.task_timeout:g} (TASK_TIMEOUT)",
            "less_than_equal",
        )
    view = await _visible(task_id, services, caller)
    if wait and not view.status.terminal:
        waited = await services.submitter.wait(task_id, deadline=received_at + wait)
        if waited is None:  # it expired while waited for
            raise await _missing(task_id, services, caller)
        return waited
    return view


@router.delete(
    "/{task_id}",
    operation_id="cancel_task",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a task",
    description="A queued task never starts; a running one stops within a second.",
    response_model=TaskView,
    responses={
        **_NOT_FOUND,
        409: {"model": ConflictResponse, "description": "The task has already finished."},
        **_INVALID,
        **_UNAVAILABLE,
    },
)
async def cancel(task_id: str, services: ServicesDep, caller: CallerDep) -> Response:
    task_id = known_id(task_id)
    view = await _visible(task_id, services, caller)
    if view.status.terminal:
        raise TaskFinishedError(task_id, view)
    await services.records.cancel(task_id)  # raises TaskFinishedError too, if it finished meanwhile
    await services.webhooks.task_ended(task_id)
    return model_response(await services.records.view(task_id) or view, 202)


@router.get(
    "/{task_id}/events",
    operation_id="follow_task",
    summary="Follow a task as Server-Sent Events",
    description=(
        "A `snapshot` event first, then a `progress` or `state` event for every change, ending after the "
        "event whose task status is terminal; its id is `final`. Each event's `data` is the task, as "
        "`GET /tasks/{task_id}` reports it. Send `Last-Event-ID` to resume after an event."
    ),
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The stream of events."},
        **_NOT_FOUND,
        **_INVALID,
        **_UNAVAILABLE,
    },
)
async def events(
    task_id: str,
    services: ServicesDep,
    caller: CallerDep,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", pattern=_EVENT_ID, description="Resume after this event."),
    ] = None,
) -> EventSourceResponse:
    task_id = known_id(task_id)
    if last_event_id is not None and last_event_id != FINAL_EVENT_ID and not _is_stream_id(last_event_id):
        raise validation_error(("header", "Last-Event-ID"), "not an event id of this stream", "value_error")
    await _visible(task_id, services, caller)
    source = task_events(task_id, services.feeds, last_event_id)

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for sent in source:
                yield sent.frame  # encoded once, for every follower of the task
        except ServiceUnavailableError:
            # Redis went away mid-stream: end it cleanly; the client resumes with Last-Event-ID.
            return

    return EventSourceResponse(stream(), ping=services.settings.sse_heartbeat)
