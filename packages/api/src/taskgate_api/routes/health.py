"""`/healthz` (the process is alive), `/readyz` (it can do its work) and `/metrics` (Prometheus)."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from taskgate_api.dependencies import ServicesDep
from taskgate_api.metrics import exposition
from taskgate_api.responses import model_response
from taskgate_contracts import CheckResult, HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/readyz",
    summary="RabbitMQ, Redis and at least one worker are reachable",
    response_model=ReadinessResponse,
    responses={503: {"model": ReadinessResponse, "description": "A part is not reachable; it is named."}},
)
async def readyz(services: ServicesDep) -> Response:
    checks: dict[str, CheckResult] = await services.readiness.check()
    ready = all(check.ok for check in checks.values())
    body = ReadinessResponse(status="ready" if ready else "unavailable", checks=checks)
    return model_response(body, 200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
