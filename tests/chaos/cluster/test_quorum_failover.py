"""A three-node RabbitMQ cluster loses the node that leads the task queue, a quorum queue, mid-burst.

The api is connected to the first node, which leads the queue; the two workers to the second and the
third. `kill -9` of the leader costs the api its connection and the queue its leader: the api reconnects
to the next node, the other two elect a new leader, and nothing confirmed is lost. The service is back
within seconds, measured from the kill to the first job accepted and to the workers starting jobs again.

The second scenario restarts the killed node: it rejoins, its replica of the queue catches up, and then
the new leader — a worker's node this time — is killed too, which only a caught-up replica can make up
for: with one node down, a majority of two is needed.
"""

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from redis import Redis

from taskgate_contracts.builtin import PROCESS
from testkit.servers import OwnRabbitCluster, OwnRabbitMQ
from tests.chaos.cluster.conftest import leader, wait_online
from tests.chaos.conftest import Stack
from tests.chaos.faults import note_fault
from tests.chaos.ledger import Ledger, first_start_after, wait_until_settled
from tests.chaos.load import Load

RATE = 20.0
DELAY = 0.1
#: Seconds into the burst when the leader is killed.
KILL_AT = 5.0
#: What "back within seconds" means here: the api accepting jobs, the workers starting them.
BACK_WITHIN = 10.0
SETTLE = 120.0
QUEUE = PROCESS.queue


@dataclass(frozen=True)
class Kill:
    node: OwnRabbitMQ
    #: Seconds into the load, and the wall clock Redis stamps events with.
    at: float
    clock: float


class Scenario:
    """The api on the first node and a worker on each other node, under a steady burst of `/tasks`."""

    def __init__(self, stack: Stack, cluster: OwnRabbitCluster, ledger: Ledger, redis: Redis) -> None:
        first, second, third = cluster.nodes
        self.cluster, self.ledger, self.redis = cluster, ledger, redis
        self.workers = {"worker-2": second, "worker-3": third}
        for name, node in self.workers.items():
            stack.worker(name, 2, rabbitmq_hosts=cluster.hosts_from(node))
        api = stack.api(rabbitmq_hosts=cluster.hosts_from(first))
        self.load = Load(api.url, timeout=30)
        self.kills: list[Kill] = []

    async def kill(self, node: OwnRabbitMQ) -> None:
        at, clock = self.load.elapsed(), time.time()
        await asyncio.to_thread(node.kill)
        self.kills.append(Kill(node, at, clock))
        clients = ["the api"] if node is self.cluster.nodes[0] else []
        clients += [name for name, connected in self.workers.items() if connected is node]
        label = f"kill -9 of {node.short_name}, the queue's leader ({', '.join(clients)} on it)"
        note_fault(self.ledger, label, at, self.redis)

    async def run(self, jobs: int, faults: Coroutine[Any, Any, None]) -> None:
        try:
            async with asyncio.TaskGroup() as chaos:
                chaos.create_task(self.load.burst(jobs, RATE, "/tasks", {"delay": DELAY}))
                chaos.create_task(faults)
        finally:
            await self.load.aclose()
        self.ledger.answers = self.load.answers
        self.ledger.runs = wait_until_settled(self.redis, self.ledger.accepted, within=SETTLE)

    def recovery(self, kill: Kill) -> tuple[float, float]:
        """Seconds from `kill` to the first job accepted after it, and to the first job started after it."""
        accepted = [a.sent_at + a.seconds for a in self.ledger.answers if a.task_id and a.sent_at >= kill.at]
        assert accepted, "no job was accepted after the kill"
        api_back = min(accepted) - kill.at
        workers_back = first_start_after(self.redis, kill.clock) - kill.clock
        for name, node in self.workers.items():
            if node is kill.node:  # its connection died with the node: when did it take jobs again?
                own = first_start_after(self.redis, kill.clock, worker=name) - kill.clock
                self.ledger.notes.append(
                    f"{name}, whose node was killed, started jobs again {own:.1f} s later"
                )
        self.ledger.notes.append(
            f"{kill.node.short_name} killed at {kill.at:.1f} s: a job was accepted again "
            f"{api_back:.2f} s later, and started {workers_back:.2f} s later"
        )
        return api_back, workers_back

    def check(self) -> None:
        for kill in self.kills:
            api_back, workers_back = self.recovery(kill)
            assert api_back <= BACK_WITHIN
            assert workers_back <= BACK_WITHIN
        assert {a.status for a in self.ledger.answers} <= {202, 503}, self.ledger.answers
        refused_slowly = [a for a in self.ledger.refused if a.seconds > 10 or not a.retry_after]
        assert refused_slowly == []
        assert self.ledger.problems() == []
        assert len(self.ledger.duplicated) <= len(self.ledger.in_flight_at_faults)


async def test_quorum_leader_killed(
    cluster_stack: Stack, cluster: OwnRabbitCluster, cluster_vhost: str, ledger: Ledger, redis_client: Redis
) -> None:
    first = leader(cluster, cluster_vhost, QUEUE)
    assert first is cluster.nodes[0], "the queue was declared through the first node, which should lead it"
    scenario = Scenario(cluster_stack, cluster, ledger, redis_client)

    async def faults() -> None:
        await asyncio.sleep(KILL_AT)
        await scenario.kill(first)
        elected = await asyncio.to_thread(leader, cluster, cluster_vhost, QUEUE, first)
        ledger.notes.append(f"{elected.short_name} leads the queue now")

    await scenario.run(jobs=int(RATE * 3 * KILL_AT), faults=faults())
    scenario.check()


async def test_quorum_leader_killed_restarted_and_rejoined(
    cluster_stack: Stack, cluster: OwnRabbitCluster, cluster_vhost: str, ledger: Ledger, redis_client: Redis
) -> None:
    first = leader(cluster, cluster_vhost, QUEUE)
    scenario = Scenario(cluster_stack, cluster, ledger, redis_client)

    async def faults() -> None:
        await asyncio.sleep(KILL_AT)
        await scenario.kill(first)
        restarting = time.monotonic()
        await asyncio.to_thread(first.start)
        await asyncio.to_thread(wait_online, cluster, cluster_vhost, QUEUE, first)
        rejoined = time.monotonic() - restarting
        ledger.notes.append(
            f"{first.short_name} restarted: its replica was online again {rejoined:.1f} s later"
        )
        # Only with the rejoined replica caught up do two of three nodes hold every confirmed message.
        second_leader = await asyncio.to_thread(leader, cluster, cluster_vhost, QUEUE, first)
        await scenario.kill(second_leader)

    # Long enough to outlast a node's restart (about 15 s here) and the second kill.
    await scenario.run(jobs=int(RATE * 45), faults=faults())
    scenario.check()
