"""Fixtures of the scenarios past one box: a RabbitMQ cluster of the test's own, with quorum queues.

The cluster boots once for the module that asks for it (booting three nodes takes half a minute); each
test gets a vhost of its own on it, shaped as `taskgate-ops rabbitmq bootstrap` shapes it with
RABBITMQ_QUEUE_TYPE=quorum, and finds every node running again, whatever the test before killed.
"""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from taskgate_ops.bootstrap import bootstrap
from taskgate_ops.management import ManagementApi, segment
from taskgate_ops.topology import build_topology
from testkit.infrastructure import RABBITMQ_PASSWORD, RABBITMQ_USER
from testkit.processes import settings_env
from testkit.servers import OwnRabbitCluster, OwnRabbitMQ, OwnRedis
from tests.chaos.conftest import CHAOS_TYPES, Stack, stack_of

CLUSTER_SIZE = 3
#: Seconds a queue's leader gets to be elected, or a restarted node's replica to come online.
ELECTION_WITHIN = 60.0


def management(cluster: OwnRabbitCluster) -> ManagementApi:
    """The management API of whichever running node answers."""
    return ManagementApi(cluster.management_urls(), RABBITMQ_USER, RABBITMQ_PASSWORD)


def _queue(cluster: OwnRabbitCluster, vhost: str, queue: str) -> dict[str, Any]:
    """The queue as the management API describes it (empty until it exists)."""
    with management(cluster) as api:
        found: dict[str, Any] = api.get(f"/queues/{segment(vhost)}/{segment(queue)}") or {}
    return found


def leader(
    cluster: OwnRabbitCluster, vhost: str, queue: str, other_than: OwnRabbitMQ | None = None
) -> OwnRabbitMQ:
    """The node that leads the quorum queue now (once it is not `other_than`), from the management API."""
    deadline = time.monotonic() + ELECTION_WITHIN
    while True:
        name = _queue(cluster, vhost, queue).get("leader")
        running = [node for node in cluster.nodes if node.running and node is not other_than]
        if isinstance(name, str) and any(node.node == name for node in running):
            return cluster.by_name(name)
        assert time.monotonic() < deadline, f"no leader of {queue} within {ELECTION_WITHIN:g} s"
        time.sleep(0.2)


def wait_online(cluster: OwnRabbitCluster, vhost: str, queue: str, node: OwnRabbitMQ) -> None:
    """Until `node`'s replica of the queue is online again."""
    deadline = time.monotonic() + ELECTION_WITHIN
    while node.node not in _queue(cluster, vhost, queue).get("online", []):
        assert time.monotonic() < deadline, f"{node.node} not back in {queue} within {ELECTION_WITHIN:g} s"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, services_up: None) -> Iterator[OwnRabbitCluster]:
    nodes = OwnRabbitCluster.in_folder(tmp_path_factory.mktemp("cluster"), CLUSTER_SIZE)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.remove()


@pytest.fixture
def cluster_vhost(cluster: OwnRabbitCluster) -> Iterator[str]:
    """A vhost of the test's own on the cluster, task queues quorum queues declared through the first node
    (so it leads them). Whatever node the test killed is started again after it: a quorum queue with a
    member down is slow to delete."""
    name = f"taskgate-{uuid4().hex[:8]}"
    first = cluster.nodes[0]
    with ManagementApi(first.management_url, RABBITMQ_USER, RABBITMQ_PASSWORD) as api:
        bootstrap(api, build_topology(name, CHAOS_TYPES, "quorum"))
    yield name
    for node in cluster.nodes:
        if not node.running:
            node.start()
    with management(cluster) as api:
        api.delete(f"/vhosts/{segment(name)}")


@pytest.fixture
def cluster_stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    cluster: OwnRabbitCluster,
    cluster_vhost: str,
    own_redis: OwnRedis,
) -> Iterator[Stack]:
    """Services on the cluster (each given its node with `rabbitmq_hosts=cluster.hosts_from(node)`)."""
    env = settings_env(
        cluster_vhost,
        rabbitmq_hosts=",".join(cluster.hosts),
        rabbitmq_queue_type="quorum",
        port_web=cluster.nodes[0].management_port,
        redis_url=own_redis.url,
        result_expires=600,
    )
    yield from stack_of(request, tmp_path, env)
