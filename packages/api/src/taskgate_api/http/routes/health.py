"""`/healthz` (the process is alive), `/readyz` (it can do its work) and `/metrics` (Prometheus)."""

import anyio.to_thread
from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from taskgate_api.http.answers import model_response
from taskgate_api.http.dependencies import ServicesDep
from taskgate_api.metrics import exposition
from taskgate_contracts import HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", summary="The process is alive")
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="RabbitMQ, Redis and (unless READINESS_REQUIRES_WORKER=false) a worker are reachable; "
    "the state of every task queue",
    response_model=ReadinessResponse,
    responses={503: {"model": ReadinessResponse, "description": "A part is not reachable; it is named."}},
)
async def readyz(services: ServicesDep) -> Response:
    checks, queues = await services.readiness.check()
    ready = services.readiness.ready(checks)
    body = ReadinessResponse(status="ready" if ready else "unavailable", checks=checks, queues=queues)
    return model_response(body, 200 if ready else 503)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    queues = await anyio.to_thread.run_sync(services.readiness.queue_states)
    return Response(exposition(queues), media_type=CONTENT_TYPE_LATEST)
