"""The Celery app: broker, result backend and the defaults that lose no job."""

import sys

from celery import Celery
from kombu.entity import Exchange, Queue

from taskgate_contracts import PROCESS
from taskgate_worker.compat import check_contract_versions
from taskgate_worker.config import InvalidSettingsError, WorkerSettings, load_settings
from taskgate_worker.tasks import register_tasks


def create_app(settings: WorkerSettings) -> Celery:
    app = Celery("taskgate")
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        # A publish (a retry, an event) only counts once RabbitMQ has confirmed it.
        broker_transport_options={"confirm_publish": True},
        # The api reads results as Celery's Redis backend writes them: stored under
        # `celery-task-meta-<id>` and published on the channel of that name.
        result_backend=settings.redis_url.get_secret_value(),
        result_expires=settings.result_expires,
        # Stores the worker's hostname, the task name and its arguments beside the result.
        result_extended=True,
        **_redis_resilience(),
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
        # Each process holds one job at a time, so the queue stays FIFO and nothing waits
        # behind a busy process.
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.worker_concurrency,
        # What can never run goes to the dead-letter queue instead of being dropped or failed.
        worker_consumer="taskgate_worker.poison:DeadLetteringConsumer",
        task_queues=[_process_queue()],
        task_default_queue=PROCESS.queue,
        task_default_exchange=PROCESS.queue,
        task_default_routing_key=PROCESS.queue,
        task_soft_time_limit=settings.soft_time_limit,
        task_time_limit=PROCESS.hard_time_limit(settings.soft_time_limit),
        # Flower follows tasks through these events.
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    register_tasks(app)
    check_contract_versions(app)
    return app


def _process_queue() -> Queue:
    # Declared without x-arguments: dead-lettering and length limits come from RabbitMQ policies,
    # and a declaration whose arguments differ from the broker's definition is refused.
    exchange = Exchange(PROCESS.queue, type="direct", durable=True)
    return Queue(PROCESS.queue, exchange, routing_key=PROCESS.queue, durable=True)


def _redis_resilience() -> dict[str, object]:
    """Timeouts and retries that ride out a Redis blip instead of losing a result or hanging."""
    return {
        # Celery waits forever to connect and two minutes for a reply by default.
        "redis_socket_connect_timeout": 5.0,
        "redis_socket_timeout": 10.0,
        "redis_retry_on_timeout": True,
        "redis_socket_keepalive": True,
        # Finds a connection Redis dropped while idle before a result is written on it.
        "redis_backend_health_check_interval": 30,
        # Storing a result retries connection errors with backoff, a bounded number of times.
        "result_backend_always_retry": True,
        "result_backend_max_retries": 5,
    }


def _settings_or_exit() -> WorkerSettings:
    try:
        return load_settings()
    except InvalidSettingsError as exc:
        # `taskgate-worker` and `celery -A taskgate_worker.app` both start here: a wrong setting ends
        # them with one line naming it, not a traceback.
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


app = create_app(_settings_or_exit())
