"""The app the factory builds: what it registers, declares and routes, and the settings that lose no job."""

from pathlib import Path

import pytest
from celery import Celery
from celery.backends.redis import SentinelBackend
from celery.utils.quorum_queues import detect_quorum_queues
from kombu.utils.imports import symbol_by_name

from taskgate_contracts import discover
from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.builtin.thumbnail import THUMBNAIL
from taskgate_contracts.builtin.webhook import WEBHOOK
from taskgate_contracts.tasks import HARD_LIMIT_GRACE_SECONDS
from taskgate_worker.base import HandlerTask
from taskgate_worker.config import WorkerSettings
from taskgate_worker.consumer import REPLACED_STEPS
from taskgate_worker.factory import create_app
from taskgate_worker.results import FailoverFollowingBackend
from taskgate_worker.tasks.process import process
from taskgate_worker.tasks.thumbnail import make_thumbnail

from .testing_types import FLAKY, SLEEPY


def _hosted(app: Celery) -> dict[str, HandlerTask]:
    return {name: task for name, task in app.tasks.items() if isinstance(task, HandlerTask)}


@pytest.fixture
def installed_app(settings: WorkerSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Celery:
    """The app of the installed task types and handlers, as `taskgate-worker` builds it."""
    monkeypatch.chdir(tmp_path)  # no `.env` of the machine running the tests
    return create_app(settings.model_copy(update={"task_time_limits": {}}))


def test_every_installed_task_type_is_registered_with_its_entry_point_handler(installed_app: Celery) -> None:
    hosted = _hosted(installed_app)

    assert set(hosted) == {spec.task_name for spec in discover()}
    assert type(hosted[PROCESS.task_name]).handler is process
    assert type(hosted[THUMBNAIL.task_name]).handler is make_thumbnail
    # The name every release has used, so older apis' messages still find the task.
    assert hosted[PROCESS.task_name].name == "taskgate.process"


def test_each_hosted_queue_is_durable_without_arguments(installed_app: Celery) -> None:
    queues = {queue.name: queue for queue in installed_app.conf.task_queues}

    assert set(queues) == {"taskgate", THUMBNAIL.queue, WEBHOOK.queue}
    for name, queue in queues.items():
        assert queue.durable is True
        assert not queue.queue_arguments
        assert (queue.exchange.name, queue.exchange.type, queue.routing_key) == (name, "direct", name)


def test_quorum_queues_are_declared_as_such_behind_topic_exchanges(installed_app: Celery) -> None:
    settings = WorkerSettings(_env_file=None, rabbitmq_queue_type="quorum")
    quorum_app = create_app(settings)
    for queue in quorum_app.conf.task_queues:
        assert queue.queue_arguments == {"x-queue-type": "quorum"}
        # Celery's native delayed delivery, which holds a retry's countdown in the broker, needs topic.
        assert queue.exchange.type == "topic"
    # Celery finds them, and so turns global QoS off, which quorum queues refuse.
    assert quorum_app.conf.worker_detect_quorum_queues is True
    assert detect_quorum_queues(quorum_app, "amqp") == (True, "taskgate")
    assert detect_quorum_queues(installed_app, "amqp") == (False, "")


def test_a_cluster_is_one_failover_broker_url_with_the_heartbeat_of_the_settings() -> None:
    settings = WorkerSettings(_env_file=None, rabbitmq_hosts="r1:5672,r2:5672", rabbitmq_heartbeat=10)
    app = create_app(settings)
    assert app.conf.broker_url == "amqp://guest:guest@r1:5672/%2F;amqp://guest:guest@r2:5672/%2F"
    assert app.conf.broker_failover_strategy == "round-robin"
    assert app.conf.broker_heartbeat == 10
    connection = app.connection_for_write()
    assert (connection.hostname, connection.alt) == ("r1", settings.broker_urls)


def test_every_hosted_task_is_routed_to_its_queue(app: Celery) -> None:
    routes = app.conf.task_routes
    for name, task in _hosted(app).items():
        assert routes[name] == {"queue": task.spec.queue}
        assert app.amqp.router.route({}, name)["queue"].name == task.spec.queue


def test_time_limits_are_set_per_task_type(app: Celery, settings: WorkerSettings) -> None:
    hosted = _hosted(app)
    soft = {name: task.soft_time_limit for name, task in hosted.items()}

    assert soft[PROCESS.task_name] == settings.soft_time_limit  # TASK_TIME_LIMIT: it sets none
    assert soft[THUMBNAIL.task_name] == THUMBNAIL.soft_time_limit == 30  # its own
    assert soft[SLEEPY.task_name] == settings.task_time_limits[SLEEPY.name] == 2  # TASK_TIME_LIMITS wins
    for task in hosted.values():
        assert task.time_limit == task.soft_time_limit + HARD_LIMIT_GRACE_SECONDS
    # Not set for the whole app, where they would apply to every task alike.
    assert app.conf.task_soft_time_limit is None
    assert app.conf.task_time_limit is None


def test_retries_follow_each_task_types_policy(app: Celery) -> None:
    flaky, process_task = app.tasks[FLAKY.task_name], app.tasks[PROCESS.task_name]

    assert (flaky.max_retries, flaky.retry_backoff, flaky.retry_backoff_max) == (2, 1, 1)
    assert flaky.retry_jitter is True
    assert flaky.autoretry_for == FLAKY.retry.transient
    assert process_task.max_retries == 0  # one attempt: a failure is final


def test_connections_come_from_the_settings(app: Celery, settings: WorkerSettings) -> None:
    assert app.conf.result_backend == settings.redis_url.get_secret_value()
    assert app.conf.result_expires == settings.result_expires


def test_with_sentinels_results_go_to_the_master_they_name(installed_app: Celery) -> None:
    settings = WorkerSettings(
        _env_file=None,
        redis_url="redis://:master-secret@ignored:1/3",
        redis_sentinels="s1:26379,s2:26380",
        redis_sentinel_master="results",
        redis_sentinel_password="sentinel-secret",
    )
    app = create_app(settings)
    assert app.conf.result_backend == (
        "taskgate_worker.results:FailoverFollowingBackend+"
        "sentinel://:master-secret@s1:26379/3;sentinel://:master-secret@s2:26380/3"
    )
    options = app.conf.result_backend_transport_options
    assert options["master_name"] == "results"
    assert options["sentinel_kwargs"]["password"] == "sentinel-secret"
    # Celery's own Sentinel backend, whose client (the journal's too) asks the sentinels for the master,
    # and which also drops its connections when they announce a failover.
    backend = app.backend
    assert isinstance(backend, SentinelBackend)
    assert isinstance(backend, FailoverFollowingBackend)
    pool = backend.client.connection_pool
    assert (pool.service_name, pool.is_master) == ("results", True)
    assert (pool.connection_kwargs["password"], pool.connection_kwargs["db"]) == ("master-secret", 3)
    sentinels = pool.sentinel_manager.sentinels
    assert [
        (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
        for s in sentinels
    ] == [("s1", 26379), ("s2", 26380)]
    # The same timeouts and retries as on a plain URL.
    assert app.conf.result_backend_always_retry is True
    assert app.conf.redis_socket_timeout == installed_app.conf.redis_socket_timeout


def test_nothing_is_lost_when_a_worker_dies(app: Celery) -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["confirm_publish"] is True
    assert conf.broker_connection_retry_on_startup is True
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert conf.worker_deduplicate_successful_tasks is True


def test_only_json_crosses_the_wire(app: Celery) -> None:
    conf = app.conf
    assert (conf.task_serializer, conf.result_serializer) == ("json", "json")
    assert list(conf.accept_content) == ["json"]
    assert list(conf.result_accept_content) == ["json"]


def test_flower_gets_events_and_results_name_the_worker(app: Celery, settings: WorkerSettings) -> None:
    assert app.conf.worker_send_task_events is True
    assert app.conf.task_send_sent_event is True
    assert app.conf.result_extended is True
    assert app.conf.worker_concurrency == settings.worker_concurrency


def test_redis_blips_are_ridden_out(app: Celery) -> None:
    conf = app.conf
    assert conf.redis_socket_connect_timeout is not None
    assert conf.redis_socket_timeout is not None
    assert conf.redis_retry_on_timeout is True
    assert conf.result_backend_always_retry is True
    assert 0 < conf.result_backend_max_retries < float("inf")


def test_celery_steps_that_hold_the_worker_on_a_lost_broker_are_replaced(app: Celery) -> None:
    # Celery's delayed delivery retries every node of RABBITMQ_HOSTS, a dead one too, before consuming
    # again; its heartbeat events retry a lost broker for ever, in the event loop.
    steps = symbol_by_name(app.conf.worker_consumer).Blueprint.default_steps
    for celery_step, ours in REPLACED_STEPS.items():
        assert celery_step not in steps
        assert ours in steps
        assert symbol_by_name(ours)
