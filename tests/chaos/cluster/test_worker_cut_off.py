"""A worker's network link is cut — packets dropped, no RST — for longer than the AMQP heartbeat.

The worker runs in a network namespace of the test's own; RabbitMQ, Redis, the api and a second worker
run on this side of the link. Cut while it runs a long job, the worker and RabbitMQ each give the
other up after two silent heartbeats: RabbitMQ requeues the job, which the other worker then runs, and
the cut worker stops its own copy (`worker_cancel_long_running_tasks_on_connection_loss`) instead of
finishing it too. When the link returns, the cut worker reconnects by itself and takes jobs again.
"""

import asyncio
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from redis import Redis

from taskgate_contracts.storage import result_key
from taskgate_ops.bootstrap import bootstrap
from taskgate_ops.management import ManagementApi
from taskgate_ops.topology import build_topology
from testkit.infrastructure import RABBITMQ_PASSWORD, RABBITMQ_USER
from testkit.processes import Service, settings_env
from testkit.servers import OwnRabbitMQ, OwnRedis
from tests.chaos.cluster.network import Link, namespace_link, problem
from tests.chaos.conftest import CHAOS_TYPES, OWN_VHOST, Stack, stack_of
from tests.chaos.faults import note_fault
from tests.chaos.ledger import Ledger, first_start_after, starts_of, wait_until_settled
from tests.chaos.load import Load

#: RABBITMQ_HEARTBEAT of every client here. RabbitMQ gives a silent peer up after about one of them; the
#: worker gives its connection up within about half of one (the first heartbeat it sends stays
#: unacknowledged, and py-amqp's TCP_USER_TIMEOUT of 1 s ends the connection: see docs/reliability.md),
#: so it has stopped its copy before RabbitMQ gives the job to another worker.
HEARTBEAT = 10
#: Longer than the heartbeat, with room for both sides to give up.
CUT_FOR = 3 * HEARTBEAT
#: The job running on the worker when its link is cut: still running when the job is redelivered, and
#: within the worker's time limit (TASK_TIMEOUT, 30 s).
LONG = 25.0
#: Short jobs sent all along, so the time the cut worker takes jobs again can be seen.
RATE = 2.0
AFTER_RESTORE = 15.0
SETTLE = 120.0


@pytest.fixture
def link() -> Iterator[Link]:
    reason = problem()
    if reason is not None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason)
        pytest.skip(reason)
    with namespace_link() as made:
        yield made


@pytest.fixture
def own_redis(tmp_path: Path, link: Link) -> Iterator[OwnRedis]:
    """The chaos tests' Redis, listening where the namespace reaches it."""
    folder = tmp_path / "redis"
    folder.mkdir()
    with OwnRedis(folder, address=link.host_address) as server:
        yield server


@pytest.fixture
def reachable_rabbitmq(tmp_path: Path, link: Link, services_up: None) -> Iterator[OwnRabbitMQ]:
    """A RabbitMQ node listening where the namespace reaches it, shaped as ops bootstraps it."""
    folder = tmp_path / "rabbitmq"
    folder.mkdir()
    # guest may sign in from elsewhere than loopback: the namespace is another host, and the node is ours.
    node = OwnRabbitMQ(folder, address=link.host_address, config=("loopback_users = none",))
    try:
        node.start()
        with ManagementApi(node.management_url, RABBITMQ_USER, RABBITMQ_PASSWORD) as api:
            bootstrap(api, build_topology(OWN_VHOST, CHAOS_TYPES))
        yield node
    finally:
        node.remove()


@pytest.fixture
def linked_stack(
    request: pytest.FixtureRequest, tmp_path: Path, reachable_rabbitmq: OwnRabbitMQ, own_redis: OwnRedis
) -> Iterator[Stack]:
    env = settings_env(
        OWN_VHOST,
        rabbitmq_host=reachable_rabbitmq.address,
        port_amqp=reachable_rabbitmq.amqp_port,
        port_web=reachable_rabbitmq.management_port,
        rabbitmq_heartbeat=HEARTBEAT,
        redis_url=own_redis.url,
        result_expires=600,
    )
    yield from stack_of(request, tmp_path, env)


def _connection_lost_at(worker: Service) -> float:
    """When the worker's log says it lost its broker connection (the wall clock of its first such line)."""
    (stamp,) = [
        record["timestamp"]
        for record in worker.log_records()
        if record["message"].startswith("consumer: Connection to broker lost")
    ][:1]
    return datetime.fromisoformat(stamp).timestamp()


async def _running_on(redis: Redis, task_id: str, worker: str) -> None:
    while not any(by.startswith(worker) for _, by in await asyncio.to_thread(starts_of, redis, task_id)):
        await asyncio.sleep(0.1)


async def test_worker_cut_off(linked_stack: Stack, link: Link, ledger: Ledger, redis_client: Redis) -> None:
    cut_worker = linked_stack.worker("worker-cut", 1, within=link.within)
    api = linked_stack.api()
    load = Load(api.url, timeout=10)
    long = await load.request("/tasks", {"delay": LONG})
    assert long.task_id is not None, long
    await asyncio.wait_for(_running_on(redis_client, long.task_id, "worker-cut"), 30)
    # Started only now, so the long job is the cut worker's.
    linked_stack.worker("worker-free", 1)
    #: The wall clock of the cut and of the restore.
    clocks: list[float] = []

    async def fault() -> None:
        await asyncio.sleep(1)
        link.cut()
        clocks.append(time.time())
        note_fault(
            ledger, f"worker-cut's link cut for {CUT_FOR} s (packets dropped)", load.elapsed(), redis_client
        )
        await asyncio.sleep(CUT_FOR)
        link.restore()
        clocks.append(time.time())

    try:
        async with asyncio.TaskGroup() as chaos:
            jobs = int(RATE * (1 + CUT_FOR + AFTER_RESTORE))
            chaos.create_task(load.burst(jobs, RATE, "/tasks", {"delay": 0.2}))
            chaos.create_task(fault())
    finally:
        await load.aclose()
    ledger.answers = load.answers
    ledger.runs = wait_until_settled(redis_client, ledger.accepted, within=SETTLE)
    cut_at, restored_at = clocks

    starts = starts_of(redis_client, long.task_id)
    (redelivered_at,) = [at for at, by in starts if by.startswith("worker-free")]
    noticed_at = _connection_lost_at(cut_worker)
    back = first_start_after(redis_client, restored_at, worker="worker-cut") - restored_at
    ledger.notes.append(
        f"the long job was redelivered to worker-free {redelivered_at - cut_at:.1f} s after the cut "
        f"(heartbeat {HEARTBEAT} s); worker-cut gave its connection up {noticed_at - cut_at:.1f} s after "
        f"the cut, and took jobs again {back:.1f} s after the link returned"
    )

    assert len(starts) == 2, starts
    meta = json.loads(redis_client.get(result_key(long.task_id)) or "{}")
    assert meta["status"] == "SUCCESS"
    assert meta["worker"].startswith("worker-free"), "the cut worker finished its copy too"
    assert not [
        record
        for record in cut_worker.log_records()
        if record.get("task_id") == long.task_id and record.get("outcome") == "completed"
    ], "the cut worker finished its copy too"
    assert redelivered_at - cut_at <= 3 * HEARTBEAT
    # While the link was down, before the job was given to the other worker: never two copies at once.
    assert noticed_at < redelivered_at
    assert back <= 60
    assert {a.status for a in ledger.answers} == {202}
    assert ledger.problems() == []
