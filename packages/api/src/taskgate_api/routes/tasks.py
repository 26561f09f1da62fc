"""`GET /tasks/{task_id}`: where a task is — queued, running (with progress), completed or failed."""

from fastapi import APIRouter, HTTPException

from taskgate_api.dependencies import ServicesDep
from taskgate_contracts import NotFoundResponse, ServiceUnavailableResponse, TaskView

router = APIRouter(tags=["tasks"])


@router.get(
    "/tasks/{task_id}",
    summary="The state of a task",
    responses={
        404: {"model": NotFoundResponse, "description": "No such task, or it has expired."},
        503: {"model": ServiceUnavailableResponse, "description": "Redis is unreachable."},
    },
)
async def get_task(task_id: str, services: ServicesDep) -> TaskView:
    view = await services.records.view(task_id)
    if view is None:
        raise HTTPException(404, f"task {task_id} was never submitted or has expired")
    return view
