"""The Celery app of a worker: broker, result backend, the hosted task types and the defaults that lose
no job."""

import logging
import sys
from typing import Any

from celery import Celery, bootsteps
from kombu.entity import Exchange, Queue

from taskgate_contracts import RegistryError
from taskgate_contracts.builtin.webhook import WEBHOOK
from taskgate_contracts.observability import TracingSettingError
from taskgate_worker import logs, tracing, transitions
from taskgate_worker.base import task_class
from taskgate_worker.config import StartupError, WorkerSettings, load_settings
from taskgate_worker.hosting import Hosting, plan
from taskgate_worker.results import result_backend

log = logging.getLogger(__name__)


def create_app(settings: WorkerSettings, hosting: Hosting | None = None) -> Celery:
    """The app hosting what `hosting` says (by default what `plan(settings)` decides), logging every
    task's transitions, traced when the OTEL_* variables ask for it (TracingSettingError when they ask
    for what it cannot do)."""
    hosting = plan(settings) if hosting is None else hosting
    app = Celery("taskgate")
    app.conf.update(
        # With several nodes (RABBITMQ_HOSTS) a lost connection is replaced by one to the next node.
        broker_url=settings.broker_url,
        broker_failover_strategy="round-robin",
        broker_connection_retry_on_startup=True,
        broker_heartbeat=settings.rabbitmq_heartbeat,
        # A publish (a retry, an event) only counts once RabbitMQ has confirmed it.
        broker_transport_options={"confirm_publish": True},
        # The api reads results as Celery's Redis backend writes them: stored under
        # `celery-task-meta-<id>` and published on the channel of that name.
        **result_backend(settings),
        result_expires=settings.result_expires,
        # Stores the worker's hostname, the task name and its arguments beside the result.
        result_extended=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        # A job is acknowledged when it ends, not when it starts: a worker that dies mid-job
        # leaves it in the queue for another.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A lost broker connection means the job is redelivered; finishing the old copy too
        # would run it twice.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # A job that finished just as the connection dropped could not be acknowledged and comes back:
        # its stored success is found and it is not run again.
        worker_deduplicate_successful_tasks=True,
        # Each process holds one job at a time, so a queue stays FIFO and nothing waits
        # behind a busy process.
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.worker_concurrency,
        # What can never run goes to the dead-letter queue instead of being dropped or failed.
        worker_consumer="taskgate_worker.consumer:WorkerConsumer",
        # Only the hosted types' queues are declared and consumed. On quorum queues Celery turns global
        # QoS off by itself (worker_detect_quorum_queues): RabbitMQ refuses it there.
        task_queues=[_queue(name, settings) for name in hosting.specs.queues()],
        # Whatever this app sends of a hosted type (a retry, `celery call`) goes to the type's queue, and
        # a completion webhook's delivery to its own, declared as ops declares it, hosted here or not.
        task_routes={
            WEBHOOK.task_name: {"queue": _queue(WEBHOOK.queue, settings)},
            **{spec.task_name: {"queue": spec.queue} for spec in hosting.specs},
        },
        # Flower follows tasks through these events.
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    for spec in hosting.specs:
        handler, task_settings = hosting.handlers[spec.name], hosting.settings[spec.name]
        app.register_task(task_class(spec, handler, task_settings, settings.soft_time_limit_of(spec)))
    app.steps["worker"].add(_announcing(hosting))
    transitions.install()
    tracing.install()
    return app


def configured(**overrides: Any) -> tuple[Celery, Hosting]:
    """The app the environment configures, `overrides` (the command line's settings) winning over it.

    `taskgate-worker` and `celery -A taskgate_worker.app` both start here: whatever keeps the worker
    from starting ends it with one line saying what, and exit code 2, not a traceback."""
    try:
        settings = load_settings(**overrides)
        hosting = plan(settings)
        app = create_app(settings, hosting)
    except (StartupError, RegistryError, TracingSettingError) as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    logs.install(settings.chosen_log_format())
    return app, hosting


def _queue(name: str, settings: WorkerSettings) -> Queue:
    # Declared with the type's argument alone, as the api and ops declare it: dead-lettering and length
    # limits come from RabbitMQ policies, and a declaration whose arguments differ is refused.
    exchange = Exchange(name, type=settings.task_exchange_type, durable=True)
    return Queue(
        name, exchange, routing_key=name, durable=True, queue_arguments=settings.task_queue_arguments
    )


def _announcing(hosting: Hosting) -> type[bootsteps.StartStopStep]:
    """A worker step that says what the worker hosts, once the worker has set up its logging."""

    class Announce(bootsteps.StartStopStep):  # type: ignore[misc]  # Celery is untyped
        def start(self, worker: Any) -> None:
            for spec in hosting.specs:
                log.info("hosting task type %s from queue %s", spec.name, spec.queue)
            for name in hosting.without_handler:
                log.info("not hosting task type %s: no handler of it is installed", name)

    return Announce
