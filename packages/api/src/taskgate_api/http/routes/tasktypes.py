"""Every task type's two operations, made from the registry when the app is created: `POST /submit/<name>`
queues a task and answers at once; `POST /run/<name>` waits up to TASK_TIMEOUT for its outcome."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ValidationError

from taskgate_api.engine.tasktypes import TaskType, TaskTypes
from taskgate_api.http import running
from taskgate_api.http.answers import json_response
from taskgate_api.http.dependencies import CallbackUrl, IdempotencyKey, ReceivedAt, ServicesDep
from taskgate_api.http.errors import invalid_body, validation_error
from taskgate_contracts import (
    FailedResponse,
    PendingResponse,
    ServiceUnavailableResponse,
    SubmittedResponse,
    UnknownTaskTypeError,
    UnknownTaskTypeResponse,
    ValidationErrorResponse,
)
from taskgate_contracts.operations import (
    completed_model,
    run_operation_id,
    run_path,
    submit_operation_id,
    submit_path,
)

Responses = dict[int | str, dict[str, Any]]

COMMON_RESPONSES: Responses = {
    422: {"model": ValidationErrorResponse, "description": "The arguments are not valid: `detail` says why."},
    503: {"model": ServiceUnavailableResponse, "description": "RabbitMQ or Redis is unreachable."},
}
RUN_RESPONSES: Responses = {
    202: {"model": PendingResponse, "description": "Not finished within TASK_TIMEOUT; it keeps running."},
    500: {
        "model": FailedResponse,
        "description": "The task failed, ran past its time limit or was cancelled.",
    },
    **COMMON_RESPONSES,
}
RUN_DESCRIPTION = (
    "Queues the task and waits up to TASK_TIMEOUT seconds for its outcome. `time` counts from the moment "
    "the request arrived, queue time included. A task that does not finish in time keeps running: the "
    "answer is `pending`, with `Location` pointing at the task."
)

Arguments = Callable[[Request], Awaitable[BaseModel]]


def arguments_of(task_type: TaskType) -> Arguments:
    """A dependency reading the request body as the type's arguments, validated with this deployment's
    settings of the type (FastAPI's own body parsing cannot pass them to the validators)."""

    async def read(request: Request) -> BaseModel:
        if not _is_json(request.headers.get("content-type")):
            raise validation_error(
                ("body",), "the body must be JSON (Content-Type: application/json)", "json_type"
            )
        try:
            return task_type.arguments(await request.body())
        except ValidationError as error:
            raise invalid_body(error) from None

    return read


def _is_json(content_type: str | None) -> bool:
    """`application/json` or a `+json` type; a body without a content type is refused, as FastAPI does."""
    if content_type is None:
        return False
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def request_body(task_type: TaskType) -> dict[str, Any]:
    """The operation's request body in the OpenAPI document: the args model, which `documentation` adds
    to the components under its own name."""
    schema = {"$ref": f"#/components/schemas/{task_type.spec.args.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def typed_completed(result: Any, elapsed: float, task_id: str) -> Response:
    return json_response({"status": "completed", "result": result, "time": elapsed, "task_id": task_id}, 200)


def _add_operations(router: APIRouter, task_type: TaskType) -> None:
    spec = task_type.spec
    Args = Annotated[BaseModel, Depends(arguments_of(task_type))]  # noqa: N806 - a type, named like one

    async def submit(
        args: Args,
        services: ServicesDep,
        request: Request,
        idempotency_key: IdempotencyKey = None,
        callback_url: CallbackUrl = None,
    ) -> Response:
        return await running.submit(services, request, task_type, args, idempotency_key, callback_url)

    async def run(
        args: Args,
        services: ServicesDep,
        request: Request,
        received_at: ReceivedAt,
        idempotency_key: IdempotencyKey = None,
        callback_url: CallbackUrl = None,
    ) -> Response:
        return await running.run(
            services, request, task_type, args, received_at, idempotency_key, callback_url, typed_completed
        )

    router.add_api_route(
        submit_path(spec),
        submit,
        methods=["POST"],
        status_code=202,
        operation_id=submit_operation_id(spec),
        summary=f"Queue a {spec.name} task and answer at once",
        description=spec.description,
        response_model=SubmittedResponse,
        responses=COMMON_RESPONSES,
        openapi_extra=request_body(task_type),
    )
    router.add_api_route(
        run_path(spec),
        run,
        methods=["POST"],
        operation_id=run_operation_id(spec),
        summary=f"Run a {spec.name} task and wait for its outcome",
        description=f"{spec.description}\n\n{RUN_DESCRIPTION}",
        response_model=completed_model(spec),
        responses=RUN_RESPONSES,
        openapi_extra=request_body(task_type),
    )


def router(task_types: TaskTypes) -> APIRouter:
    """The operations of every type, and — after them, so they match only what no type's route does —
    the answer to a name no type has."""
    routes = APIRouter(tags=["task types"])
    offered = task_types.offered()
    for task_type in offered.values():
        _add_operations(routes, task_type)

    async def unknown(task_type: str) -> Response:
        raise UnknownTaskTypeError(task_type, offered)

    unknown_responses: Responses = {404: {"model": UnknownTaskTypeResponse}}
    for operation, path in (("submit", submit_path("{task_type}")), ("run", run_path("{task_type}"))):
        routes.add_api_route(
            path,
            unknown,
            methods=["POST"],
            operation_id=f"{operation}_unknown_task_type",
            include_in_schema=False,
            responses=unknown_responses,
        )
    return routes
