"""The FastAPI application: the lifespan owns the long-lived clients every request shares, and wires the
engine (submitting, waiting, records) to the http layer (routes made from the task registry)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio
from celery import Celery
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskgate_api import metrics, redis_clients
from taskgate_api.config import ApiSettings, environment
from taskgate_api.engine.deadletters import DeadLetters
from taskgate_api.engine.following import TaskFeeds
from taskgate_api.engine.history import TaskHistory
from taskgate_api.engine.idempotency import IdempotencyKeys
from taskgate_api.engine.ratelimits import RateLimiter
from taskgate_api.engine.readiness import Readiness
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.sending import TaskSender, create_producer
from taskgate_api.engine.submitting import Submitter
from taskgate_api.engine.tasktypes import TaskTypes
from taskgate_api.engine.waiting import ResultHub
from taskgate_api.engine.webhooks import Webhooks
from taskgate_api.http import documentation, errors
from taskgate_api.http.counting import CountRequests
from taskgate_api.http.dependencies import Services
from taskgate_api.http.guards import LimitBody, RequireApiKey
from taskgate_api.http.ratelimits import LimitRate
from taskgate_api.http.requestlog import LogRequests
from taskgate_api.http.routes import deadletters, health, history, seed, tasks, tasktypes
from taskgate_api.tracing import Tracing
from taskgate_api.version import __version__
from taskgate_contracts import Registry, discover
from taskgate_contracts.storage.scripts import Retention


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ApiSettings = app.state.settings
    task_types: TaskTypes = app.state.task_types
    clients = redis_clients.connect(settings)
    redis = clients.commands
    tracing: Tracing | None = app.state.tracing
    producer = create_producer(settings, task_types.queues())
    sender = TaskSender(producer, settings, task_types.queues(), tracing)
    hub = ResultHub(clients.subscriber, tracing)
    services = wire(settings, task_types, redis, hub, producer, sender)
    app.state.services = services
    await _open_connections(redis)
    app.state.loop = asyncio.get_running_loop()
    async with anyio.create_task_group() as background:
        background.start_soon(hub.run)
        background.start_soon(clients.follow_failovers)
        background.start_soon(metrics.report_waiting, lambda: hub.waiting)
        try:
            yield
        finally:
            background.cancel_scope.cancel()
    await sender.close()
    await clients.aclose()


def wire(
    settings: ApiSettings,
    task_types: TaskTypes,
    redis: Redis,
    hub: ResultHub,
    producer: Celery,
    sender: TaskSender,
) -> Services:
    """The engine's parts, joined: records, idempotency keys and the submitter on `redis`, results and
    the followed tasks' feeds from `hub`, tasks sent by `sender`, readiness asked of `producer`."""
    redis_address = settings.redis_address
    retention = Retention(settings.result_expires, settings.history_seconds, settings.tombstone_seconds)
    records = TaskRecords(redis, redis_address, retention)
    queues = task_types.queues()
    return Services(
        settings=settings,
        task_types=task_types,
        records=records,
        history=TaskHistory(redis, redis_address, records),
        rate_limiter=RateLimiter(redis, redis_address),
        dead_letters=DeadLetters(sender, queues, records, redis, redis_address),
        submitter=Submitter(
            records=records,
            sender=sender,
            hub=hub,
            keys=IdempotencyKeys(redis, redis_address, settings.result_expires),
            admission=asyncio.Semaphore(settings.submit_concurrency),
        ),
        webhooks=Webhooks(redis, redis_address, settings.result_expires, sender, task_types.webhook_settings),
        feeds=TaskFeeds(records, hub),
        readiness=Readiness(
            producer,
            redis,
            hub,
            settings.broker_address,
            redis_address,
            queues,
            requires_worker=settings.readiness_requires_worker,
        ),
    )


async def _open_connections(redis: Redis) -> None:
    """Fill the pool before the first request: under a burst, a connection opened late can time out."""
    with contextlib.suppress(RedisError, OSError):  # Redis down now: requests answer 503 until it is up
        await asyncio.gather(*(redis.ping() for _ in range(redis_clients.COMMAND_CONNECTIONS)))


def stop_waiting(app: FastAPI) -> None:
    """Answer every waiting request now; safe to call from a signal handler."""
    loop: asyncio.AbstractEventLoop | None = getattr(app.state, "loop", None)
    if loop is not None:
        services: Services = app.state.services
        loop.call_soon_threadsafe(services.submitter.hub.stop_waiting)


def _trace_requests(app: FastAPI, tracing: Tracing) -> None:
    """A server span for every request but the probes' and scrapes' (noise in a job's trace), outermost,
    so the request's log line and the engine's spans find it current."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # loaded only when traced

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracing.provider,
        excluded_urls="/healthz,/readyz,/metrics",
        # A span per ASGI message would double a trace's size and say nothing the server span does not.
        exclude_spans=["receive", "send"],
    )


def create_app(
    settings: ApiSettings | None = None,
    registry: Registry | None = None,
    task_settings: Mapping[str, str] | None = None,
) -> FastAPI:
    """The api for `settings` (else read from the environment) and the task types of `registry` (else
    every installed one), their settings read from `task_settings` (else the environment and `.env`),
    traced when the OTEL_* variables ask for it. Raises RegistryError,
    DocumentationError when two models share a name in the OpenAPI document, pydantic's ValidationError
    for a wrong setting of a task type, or TracingSettingError for an OTEL_* variable it cannot honour."""
    settings = settings or ApiSettings()
    environ = environment() if task_settings is None else task_settings
    task_types = TaskTypes.load(registry or discover(), environ)
    tracing = Tracing.from_environment()
    app = documentation.offline_app(
        title="taskgate",
        version=__version__,
        summary="Run jobs on Celery workers through RabbitMQ; results and progress in Redis.",
        lifespan=_lifespan,
        # FastAPI's own OpenTelemetry hooks cost every request a look at the environment; traces come
        # from the contrib instrumentation when OTEL_* asks for them, metrics from Prometheus (/metrics).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.task_types = task_types
    app.state.tracing = tracing
    if seed.SEED_TASK_TYPE in task_types:
        app.include_router(seed.router(task_types[seed.SEED_TASK_TYPE]))
    app.include_router(tasktypes.router(task_types))
    app.include_router(history.router)
    app.include_router(tasks.router)
    app.include_router(deadletters.router)
    app.include_router(health.router)
    errors.install(app)
    # Added last, so outermost: the body limit and the key are checked before anything else runs, and
    # an error nothing foresaw, anywhere, is still answered in JSON.
    app.add_middleware(CountRequests)
    app.add_middleware(LimitBody, limit=settings.max_body_bytes)
    if settings.api_keys:
        # The key is known before its rate is counted: LimitRate runs inside RequireApiKey.
        app.add_middleware(LimitRate)
        app.add_middleware(RequireApiKey, keys=settings.api_keys)
    # Inside the request log, so an unforeseen failure's line carries its 500 and its request id.
    app.add_middleware(errors.AnswerUnexpected)
    # Outside the key: a refused request is logged too, with its request id.
    app.add_middleware(LogRequests, traced=tracing is not None)
    if tracing is not None:
        _trace_requests(app, tracing)
    documentation.describe_deployment(app, settings, task_types)
    app.openapi()  # made now, so a document that cannot be made stops the api at start, not on a request
    return app
