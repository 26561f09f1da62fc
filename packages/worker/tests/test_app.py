from celery import Celery

from taskgate_contracts import PROCESS
from taskgate_worker.config import WorkerSettings


def test_process_task_is_registered_under_the_contract_name(app: Celery) -> None:
    assert app.tasks[PROCESS.name].name == "taskgate.process"


def test_connections_come_from_the_settings(app: Celery, settings: WorkerSettings) -> None:
    assert app.conf.result_backend == settings.redis_url.get_secret_value()
    assert app.conf.result_expires == settings.result_expires


def test_nothing_is_lost_when_a_worker_dies(app: Celery) -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["confirm_publish"] is True
    assert conf.broker_connection_retry_on_startup is True


def test_only_json_crosses_the_wire(app: Celery) -> None:
    conf = app.conf
    assert (conf.task_serializer, conf.result_serializer) == ("json", "json")
    assert list(conf.accept_content) == ["json"]
    assert list(conf.result_accept_content) == ["json"]


def test_one_durable_queue_without_arguments(app: Celery) -> None:
    (queue,) = app.conf.task_queues
    assert queue.name == PROCESS.queue
    assert queue.durable is True
    assert not queue.queue_arguments
    assert (queue.exchange.name, queue.exchange.type, queue.routing_key) == (
        PROCESS.queue,
        "direct",
        PROCESS.queue,
    )
    assert app.conf.task_default_queue == PROCESS.queue


def test_time_limits_follow_the_settings(app: Celery, settings: WorkerSettings) -> None:
    assert app.conf.task_soft_time_limit == settings.soft_time_limit
    assert app.conf.task_time_limit == PROCESS.hard_time_limit(settings.soft_time_limit)


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
