"""The seed's requests, kept exactly as they were: `POST /process` runs a `process` task and answers in the
seed's words (`"result": "Запрос выполнен успешно"`), and `POST /tasks` queues one. They are the `process`
type's run and submit operations under their first names; the only module that names a task type."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from taskgate_api.engine.tasktypes import TaskType
from taskgate_api.http import running
from taskgate_api.http.answers import model_response
from taskgate_api.http.dependencies import CallbackUrl, IdempotencyKey, ReceivedAt, ServicesDep
from taskgate_api.http.routes.tasktypes import (
    COMMON_RESPONSES,
    RUN_DESCRIPTION,
    RUN_RESPONSES,
    arguments_of,
    request_body,
)
from taskgate_contracts import CompletedResponse, SubmittedResponse

#: The task type the seed's requests are for.
SEED_TASK_TYPE = "process"


def seed_completed(result: Any, elapsed: float, task_id: str) -> Response:
    """The seed's `completed` answer: the process task's message as `result`, not its whole result."""
    message = result.get("result", "") if isinstance(result, dict) else ""
    return model_response(CompletedResponse(result=str(message), time=elapsed, task_id=task_id), 200)


def router(process: TaskType) -> APIRouter:
    routes = APIRouter(tags=["process"])
    Args = Annotated[BaseModel, Depends(arguments_of(process))]  # noqa: N806 - a type, named like one

    @routes.post(
        "/process",
        operation_id="process",
        summary="Run a job and wait for its outcome (the seed's request)",
        description=f"The `process` type's run operation, answering in the seed's words. {RUN_DESCRIPTION}",
        response_model=CompletedResponse,
        responses=RUN_RESPONSES,
        openapi_extra=request_body(process),
    )
    async def process_(
        args: Args,
        services: ServicesDep,
        request: Request,
        received_at: ReceivedAt,
        idempotency_key: IdempotencyKey = None,
        callback_url: CallbackUrl = None,
    ) -> Response:
        return await running.run(
            services, request, process, args, received_at, idempotency_key, callback_url, seed_completed
        )

    @routes.post(
        "/tasks",
        status_code=202,
        operation_id="submit_task",
        summary="Queue a job and answer at once",
        description="The `process` type's submit operation under its first name.",
        response_model=SubmittedResponse,
        responses=COMMON_RESPONSES,
        openapi_extra=request_body(process),
    )
    async def submit(
        args: Args,
        services: ServicesDep,
        request: Request,
        idempotency_key: IdempotencyKey = None,
        callback_url: CallbackUrl = None,
    ) -> Response:
        return await running.submit(services, request, process, args, idempotency_key, callback_url)

    return routes
