"""Delay-0 jobs on quorum task queues beside classic ones (RABBITMQ_QUEUE_TYPE): what a replicated queue
costs a job, and RabbitMQ alone.

Each round gives each queue type a vhost of its own with a worker and an api as the delay-0 scenarios
run them, the types taking turns so that whatever else loads the machine meanwhile falls on both:
confirmed publishes straight to RabbitMQ with nothing else running and their acknowledged deliveries,
sequential requests, then wrk,
during which the CPU time the api and the worker spend, and the commands Redis runs, are read (each
round on a Redis of its own). Each figure is the median of the
rounds. They are reported, not held to targets; docs/scaling.md reads them. The broker here is one
node: a quorum queue still writes its Raft log and fsyncs it before confirming, but a cluster adds the
round trip to a majority of its nodes on top — which the last scenario measures, on RabbitMQ alone, with
a three-node cluster of the bench's own on this machine.
"""

import asyncio
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiormq
from redis import Redis

from bench import client, wrk
from bench.infra import broker_url
from bench.services import cpu_seconds, start_api, start_worker
from bench.stats import Latency
from bench.targets import Scenario, reported
from taskgate_contracts import QueueType, task_queue_arguments
from testkit.infrastructure import temporary_vhost
from testkit.processes import settings_env, wait_ready
from testkit.servers import OwnRabbitCluster, OwnRedis

QUEUE_TYPES: tuple[QueueType, ...] = ("classic", "quorum")
ROUNDS = 3
SEQUENTIAL_REQUESTS = 300
WARMUP_REQUESTS = 30
CONNECTIONS = 50
SECONDS = 10
#: Confirmed publishes straight to RabbitMQ, and how many may wait for their confirmation at once.
PUBLISHES = 10_000
IN_FLIGHT = 200
_PATIENT_TIMEOUT = 30
CLUSTER_SIZE = 3


@dataclass(frozen=True)
class Round:
    publishes_per_second: float
    deliveries_per_second: float
    sequential_p50: float
    sequential_p99: float
    per_second: float
    loaded_p50: float
    loaded_p99: float
    errors: int
    #: CPU milliseconds per request the api's processes spent under wrk, and the worker's per job.
    api_cpu_ms: float
    worker_cpu_ms: float
    #: Commands Redis served per job under wrk (all clients, the health checks' pings aside).
    redis_commands: float


def measure(logs: Path) -> list[Scenario]:
    """A scenario per queue type, one comparing them, and RabbitMQ alone on a cluster."""
    rounds: dict[QueueType, list[Round]] = {queue_type: [] for queue_type in QUEUE_TYPES}
    for _ in range(ROUNDS):
        for queue_type in QUEUE_TYPES:
            rounds[queue_type].append(_round(queue_type, logs))
    medians = {queue_type: _median(taken) for queue_type, taken in rounds.items()}
    scenarios = [_scenario(queue_type, medians[queue_type], rounds[queue_type]) for queue_type in QUEUE_TYPES]
    return [*scenarios, _compare(medians["classic"], medians["quorum"]), _on_a_cluster(logs)]


def _on_a_cluster(logs: Path) -> Scenario:
    """Confirmed publishes and acknowledged deliveries through the first node of a three-node cluster:
    into a classic queue there, and into a quorum queue replicated on all three."""
    cluster = OwnRabbitCluster.in_folder(logs / "cluster", CLUSTER_SIZE)
    taken: dict[QueueType, list[tuple[float, float]]] = {queue_type: [] for queue_type in QUEUE_TYPES}
    try:
        cluster.start()
        url = f"amqp://guest:guest@{cluster.hosts[0]}/%2F"
        for _ in range(ROUNDS):
            for queue_type in QUEUE_TYPES:
                taken[queue_type].append(asyncio.run(_broker_alone(url, queue_type)))
    finally:
        cluster.remove()
    rates = {
        queue_type: tuple(statistics.median(column) for column in zip(*pairs, strict=True))
        for queue_type, pairs in taken.items()
    }
    scenario = Scenario(f"RabbitMQ alone, a {CLUSTER_SIZE}-node cluster on this machine, median of {ROUNDS}")
    for queue_type, (publishes, deliveries) in rates.items():
        scenario.add(
            reported(f"{queue_type}: confirmed publishes/s", publishes, "msg/s"),
            reported(f"{queue_type}: deliveries acknowledged/s", deliveries, "msg/s"),
        )
    (classic_publishes, classic_deliveries), (quorum_publishes, quorum_deliveries) = (
        rates["classic"],
        rates["quorum"],
    )
    scenario.add(
        reported("confirmed publishes/s, quorum ÷ classic", quorum_publishes / classic_publishes, "×"),
        reported("deliveries acknowledged/s, quorum ÷ classic", quorum_deliveries / classic_deliveries, "×"),
    )
    scenario.raw = {queue_type: [list(pair) for pair in pairs] for queue_type, pairs in taken.items()}
    return scenario


def _round(queue_type: QueueType, logs: Path) -> Round:
    folder = Path(tempfile.mkdtemp(prefix=f"redis-{queue_type}-", dir=logs))
    # A Redis of the round's own: what it was asked is the round's alone.
    with temporary_vhost() as vhost, OwnRedis(folder, durable=False) as redis:
        publishes, deliveries = asyncio.run(_broker_alone(broker_url(vhost), queue_type))
        env = settings_env(
            vhost,
            redis_url=redis.url,
            result_expires=3600,
            rabbitmq_queue_type=queue_type,
            task_timeout=_PATIENT_TIMEOUT,
        )
        worker = start_worker(env, logs, concurrency=1)
        api = start_api(f"api-{queue_type}", env, logs)
        try:
            wait_ready(api, worker)
            request = client.post_request(api.url, "/process", {"delay": 0})
            answers = client.drive(client.sequential(api.url, request, SEQUENTIAL_REQUESTS, WARMUP_REQUESTS))
            api_before, worker_before = cpu_seconds(api), cpu_seconds(worker)
            commands_before = _commands(redis)
            run = wrk.run(f"{api.url}/process", CONNECTIONS, SECONDS, delay=0, timeout=_PATIENT_TIMEOUT)
            api_cpu, worker_cpu = cpu_seconds(api) - api_before, cpu_seconds(worker) - worker_before
            commands = _commands(redis) - commands_before
        finally:
            api.stop()
            worker.stop()
    sequential = Latency.of_seconds([answer.latency for answer in answers])
    return Round(
        publishes_per_second=publishes,
        deliveries_per_second=deliveries,
        sequential_p50=sequential.p50,
        sequential_p99=sequential.p99,
        per_second=run.per_second,
        loaded_p50=run.latency.p50,
        loaded_p99=run.latency.p99,
        errors=run.errors,
        api_cpu_ms=1000 * api_cpu / run.requests,
        worker_cpu_ms=1000 * worker_cpu / run.requests,
        redis_commands=commands / run.requests,
    )


def _median(rounds: list[Round]) -> Round:
    columns = zip(*(asdict(taken).values() for taken in rounds), strict=True)
    return Round(*(statistics.median(column) for column in columns))


def _scenario(queue_type: QueueType, median: Round, rounds: list[Round]) -> Scenario:
    scenario = Scenario(
        f"delay 0 on {queue_type} task queues (RABBITMQ_QUEUE_TYPE={queue_type}), median of {ROUNDS}"
    )
    scenario.add(
        reported("RabbitMQ alone: confirmed publishes/s", median.publishes_per_second, "msg/s"),
        reported("RabbitMQ alone: deliveries acknowledged/s", median.deliveries_per_second, "msg/s"),
        reported(f"p50, one client ({SEQUENTIAL_REQUESTS} sequential)", median.sequential_p50, "ms"),
        reported("p99, one client", median.sequential_p99, "ms"),
        reported(f"throughput, {CONNECTIONS} connections (wrk, {SECONDS} s)", median.per_second, "req/s"),
        reported(f"p50, {CONNECTIONS} connections", median.loaded_p50, "ms"),
        reported(f"p99, {CONNECTIONS} connections", median.loaded_p99, "ms"),
        reported("errors", median.errors, ""),
        reported("api CPU per request", median.api_cpu_ms, "ms"),
        reported("worker CPU per job", median.worker_cpu_ms, "ms"),
        reported("Redis commands per job", median.redis_commands, ""),
    )
    scenario.raw = {"queue_type": queue_type, "rounds": [asdict(taken) for taken in rounds]}
    return scenario


def _compare(classic: Round, quorum: Round) -> Scenario:
    scenario = Scenario("quorum over classic task queues (medians)")
    scenario.add(
        reported(
            "RabbitMQ alone: confirmed publishes/s, quorum ÷ classic",
            quorum.publishes_per_second / classic.publishes_per_second,
            "×",
        ),
        reported(
            "RabbitMQ alone: deliveries acknowledged/s, quorum ÷ classic",
            quorum.deliveries_per_second / classic.deliveries_per_second,
            "×",
        ),
        reported("p50, one client: quorum − classic", quorum.sequential_p50 - classic.sequential_p50, "ms"),
        reported(
            f"throughput at {CONNECTIONS} connections: quorum ÷ classic",
            quorum.per_second / classic.per_second,
            "×",
        ),
    )
    return scenario


def _commands(redis: OwnRedis) -> int:
    """Commands the server has run so far, but the pings of the clients' health checks and our INFO."""
    client = Redis.from_url(redis.url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return sum(
        int(counts["calls"]) for name, counts in stats.items() if name not in ("cmdstat_ping", "cmdstat_info")
    )


async def _broker_alone(url: str, queue_type: QueueType) -> tuple[float, float]:
    """Persistent messages published with confirms into a fresh queue of the type, IN_FLIGHT at a time,
    then consumed with IN_FLIGHT unacknowledged at most, each acknowledged: both rates, per second."""
    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = f"bench.broker.{queue_type}"
        arguments: dict[str, Any] = {**task_queue_arguments(queue_type)}
        await channel.queue_declare(queue, durable=True, arguments=arguments)
        properties = aiormq.spec.Basic.Properties(delivery_mode=2)
        window = asyncio.Semaphore(IN_FLIGHT)

        async def publish() -> None:
            async with window:
                await channel.basic_publish(b"{}", routing_key=queue, properties=properties)

        started = time.perf_counter()
        await asyncio.gather(*(publish() for _ in range(PUBLISHES)))
        published = time.perf_counter() - started

        drained = asyncio.get_running_loop().create_future()
        received = 0

        async def on_message(message: aiormq.abc.DeliveredMessage) -> None:
            nonlocal received
            tag = message.delivery_tag
            assert tag is not None, "a consumer that acknowledges gets a tag with each message"
            await message.channel.basic_ack(tag)
            received += 1
            if received == PUBLISHES and not drained.done():
                drained.set_result(None)

        await channel.basic_qos(prefetch_count=IN_FLIGHT)
        started = time.perf_counter()
        await channel.basic_consume(queue, on_message, consumer_tag=queue)
        await drained
        consumed = time.perf_counter() - started
        await channel.basic_cancel(queue)
        await channel.queue_delete(queue)
    finally:
        await connection.close()
    return PUBLISHES / published, PUBLISHES / consumed
