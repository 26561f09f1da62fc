"""`/dead-letters`: what the workers could not run, read and replayed by an admin key."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from taskgate_api.http.answers import model_response
from taskgate_api.http.dependencies import AdminDep, ServicesDep
from taskgate_api.http.requestlog import note_task
from taskgate_api.http.routes.tasks import known_id
from taskgate_contracts import (
    ConflictResponse,
    DeadLetterList,
    ForbiddenResponse,
    NotFoundResponse,
    ReplayedResponse,
    ServiceUnavailableResponse,
    TaskLinks,
    ValidationErrorResponse,
)

router = APIRouter(prefix="/dead-letters", tags=["dead letters"])

Responses = dict[int | str, dict[str, Any]]
_COMMON: Responses = {
    403: {"model": ForbiddenResponse, "description": "The key is a client key; this needs an admin key."},
    422: {"model": ValidationErrorResponse, "description": "The request is not valid."},
    503: {"model": ServiceUnavailableResponse, "description": "RabbitMQ or Redis is unreachable."},
}
#: Dead letters one listing reads at most.
MAX_LIMIT = 500


@router.get(
    "",
    operation_id="list_dead_letters",
    summary="What the dead-letter queues hold",
    description=(
        "Every task queue's dead-letter queue, oldest first: each message's task, why RabbitMQ "
        "dead-lettered it (`x-death`), when, what the worker said of it, and its arguments. Read without "
        "taking anything out: the messages stay where they are."
    ),
    responses=_COMMON,
)
async def list_dead_letters(
    services: ServicesDep,
    _: AdminDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Dead letters listed at most.")] = 100,
) -> DeadLetterList:
    letters, truncated = await services.dead_letters.list(limit)
    return DeadLetterList(dead_letters=letters, truncated=truncated)


@router.post(
    "/{task_id}/replay",
    operation_id="replay_dead_letter",
    status_code=202,
    summary="Send a dead letter back to its queue",
    description=(
        "The task's message goes back to the queue it was dead-lettered from as a new attempt of the same "
        "task (its stored failure forgotten), and leaves the dead-letter queue. Once: a second replay is "
        "a 409."
    ),
    response_model=ReplayedResponse,
    responses={
        **_COMMON,
        404: {"model": NotFoundResponse, "description": "No dead-letter queue holds a message of this task."},
        409: {"model": ConflictResponse, "description": "The task was replayed already."},
    },
)
async def replay_dead_letter(task_id: str, services: ServicesDep, request: Request, _: AdminDep) -> Response:
    task_id = known_id(task_id)
    queue = await services.dead_letters.replay(task_id)
    note_task(request.scope["state"], task_id)
    links = TaskLinks.for_task(task_id)
    body = ReplayedResponse(task_id=task_id, queue=queue, links=links)
    return model_response(body, 202, {"Location": links.self})
