"""Readiness and the queue gauges, as a real RabbitMQ reports each task queue: how many messages wait in it
and how many workers consume it. Each test has a virtual host of its own (the `vhost` fixture)."""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager

import anyio.to_thread
import fakeredis
import httpx
import pytest
from kombu.connection import Connection

from taskgate_api.config import ApiSettings
from taskgate_api.engine.readiness import Readiness
from taskgate_api.engine.sending import TaskSender, create_producer
from taskgate_api.engine.waiting import ResultHub
from taskgate_contracts import QueueState, ReadinessResponse, discover
from taskgate_contracts.builtin.process import PROCESS, ProcessArgs

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def settings(vhost: str, app_settings: ApiSettings) -> ApiSettings:
    return app_settings.model_copy(update={"rabbitmq_vhost": vhost, "port_amqp": 5672, "publish_timeout": 2})


@pytest.fixture
def queues() -> dict[str, list[str]]:
    return {queue: [spec.name for spec in specs] for queue, specs in discover().queues().items()}


@pytest.fixture
def readiness(
    settings: ApiSettings, redis: fakeredis.FakeAsyncRedis, queues: dict[str, list[str]]
) -> Iterator[Readiness]:
    producer = create_producer(settings, queues)
    yield Readiness(producer, redis, ResultHub(redis), settings.broker_address, "fake-redis:6379", queues)
    producer.close()


@pytest.fixture
async def one_waiting(settings: ApiSettings, queues: dict[str, list[str]]) -> AsyncIterator[None]:
    """One process task sent: the api's sender declares every task queue, and the seed's holds one message."""
    sender = TaskSender(create_producer(settings, queues), settings, queues)
    await sender.send(PROCESS, ProcessArgs(delay=0), "waiting-1")
    yield
    await sender.close()


@pytest.fixture
def a_worker_on_the_seed_queue(settings: ApiSettings, one_waiting: None) -> Iterator[None]:
    """A consumer on the seed's queue, as a worker would be: RabbitMQ counts it. It takes at most the one
    message and never acknowledges it; removing the virtual host cleans that up."""
    with Connection(settings.broker_url) as connection:
        channel = connection.channel()
        channel.basic_qos(0, 1, False)
        channel.basic_consume("taskgate", callback=lambda message: None)
        yield


def by_queue(states: list[QueueState]) -> dict[str, QueueState]:
    return {state.queue: state for state in states}


async def test_queues_nobody_declared_yet_are_named_as_such(readiness: Readiness) -> None:
    states = by_queue(await anyio.to_thread.run_sync(readiness.queue_states))
    assert list(states) == ["taskgate", "taskgate.thumbnail", "taskgate.webhook"]
    for state in states.values():
        assert (state.messages, state.consumers) == (None, None)
        assert state.detail == "the queue does not exist yet: no worker or api declared it"
    assert states["taskgate.thumbnail"].tasks == ["thumbnail"]


@pytest.mark.usefixtures("one_waiting")
async def test_a_queue_nobody_consumes_says_which_worker_to_start(readiness: Readiness) -> None:
    states = by_queue(await anyio.to_thread.run_sync(readiness.queue_states))
    seed = states["taskgate"]
    assert (seed.tasks, seed.messages, seed.consumers) == (["process"], 1, 0)
    assert seed.detail == "1 waiting, and no worker consumes it: start one with --tasks process"
    assert (states["taskgate.thumbnail"].messages, states["taskgate.thumbnail"].consumers) == (0, 0)


@pytest.mark.usefixtures("a_worker_on_the_seed_queue")
async def test_a_consumed_queue_counts_its_consumers(readiness: Readiness) -> None:
    seed = by_queue(await anyio.to_thread.run_sync(readiness.queue_states))["taskgate"]
    assert seed.consumers == 1
    assert seed.detail.endswith("1 consumer(s)")


@pytest.mark.usefixtures("one_waiting")
async def test_metrics_show_each_queue_as_rabbitmq_counts_it(serve: Serve, settings: ApiSettings) -> None:
    async with serve(settings=settings) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    lines = set(response.text.splitlines())
    assert {
        'taskgate_queue_messages{queue="taskgate"} 1.0',
        'taskgate_queue_consumers{queue="taskgate"} 0.0',
        'taskgate_queue_messages{queue="taskgate.thumbnail"} 0.0',
        'taskgate_queue_consumers{queue="taskgate.thumbnail"} 0.0',
    } <= lines


@pytest.mark.usefixtures("one_waiting")
async def test_readiness_lists_every_queue_and_needs_a_worker(serve: Serve, settings: ApiSettings) -> None:
    # The tests' own types too: their queues are the api's to report, though nobody declared them here.
    async with serve(settings=settings) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    ready = ReadinessResponse.model_validate(response.json())
    assert (ready.checks["rabbitmq"].ok, ready.checks["redis"].ok) == (True, True)
    assert (ready.checks["workers"].ok, ready.checks["workers"].detail) == (
        False,
        "no worker answered a ping",
    )
    assert [(state.queue, state.tasks, state.messages, state.consumers) for state in ready.queues] == [
        ("taskgate", ["process"], 1, 0),
        ("taskgate.acme.weekly-report", ["acme.weekly-report"], None, None),
        ("taskgate.echo", ["echo"], None, None),
        ("taskgate.thumbnail", ["thumbnail"], 0, 0),
        ("taskgate.webhook", ["webhook"], 0, 0),
    ]
    assert "does not exist yet" in ready.queues[2].detail


async def readiness_on_demand(serve: Serve, settings: ApiSettings) -> tuple[int, ReadinessResponse]:
    """/readyz of an api whose workers start on demand (READINESS_REQUIRES_WORKER=false)."""
    async with serve(settings=settings.model_copy(update={"readiness_requires_worker": False})) as client:
        response = await client.get("/readyz")
    return response.status_code, ReadinessResponse.model_validate(response.json())


@pytest.mark.usefixtures("one_waiting")
async def test_where_workers_start_on_demand_readiness_only_reports_them(
    serve: Serve, settings: ApiSettings
) -> None:
    # No worker runs: with workers scaled to zero, the api must still take the requests that bring one up.
    status, ready = await readiness_on_demand(serve, settings)
    assert (status, ready.status) == (200, "ready")
    assert (ready.checks["workers"].ok, ready.checks["workers"].detail) == (
        False,
        "no worker answered a ping (not required: workers start on demand)",
    )


async def test_where_workers_start_on_demand_rabbitmq_and_redis_still_decide(
    serve: Serve, app_settings: ApiSettings
) -> None:
    status, ready = await readiness_on_demand(serve, app_settings)  # its RabbitMQ is unreachable
    assert (status, ready.status) == (503, "unavailable")
    assert not ready.checks["rabbitmq"].ok


@pytest.mark.usefixtures("one_waiting")
async def test_a_dead_node_of_a_cluster_is_passed_over(
    settings: ApiSettings, redis: fakeredis.FakeAsyncRedis, queues: dict[str, list[str]]
) -> None:
    cluster = settings.model_copy(update={"rabbitmq_hosts": "127.0.0.1:1,127.0.0.1:5672"})
    producer = create_producer(cluster, queues)
    readiness = Readiness(
        producer, redis, ResultHub(redis), cluster.broker_address, "fake-redis:6379", queues
    )
    try:
        checks, states = await readiness.check()
    finally:
        producer.close()
    assert checks["rabbitmq"].ok, checks["rabbitmq"]
    assert by_queue(states)["taskgate"].messages == 1
