"""RabbitMQ topology as data, generated from the task types the registry holds.

One description serves both ways the broker gets it: `definitions.json`, which RabbitMQ imports at boot
(compose), and `taskgate-ops rabbitmq bootstrap`, which applies it to a running broker through the
management API. Each entity knows its management-API body; a definitions entry is that body plus its
name and vhost.
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from taskgate_contracts import QueueType, Registry, TaskSpec, task_exchange_type, task_queue_arguments
from taskgate_contracts.messages import dead_letter_queue
from taskgate_contracts.tasks import HARD_LIMIT_GRACE_SECONDS

#: Messages a task queue holds at most; past it RabbitMQ refuses new ones (backpressure on the api)
#: instead of growing until the node runs out of memory.
QUEUE_MAX_LENGTH = 10_000

#: Deliveries of one message a quorum queue makes before it dead-letters it instead: a message that
#: kills every worker that takes it (out of memory, a crash in native code) is requeued each time, and
#: would otherwise go round for ever. A worker lost for another reason (a deployment, a network cut,
#: a node failover) costs a delivery too, so the limit leaves room for a few of those. Classic queues
#: have no delivery count, and ignore it.
DELIVERY_LIMIT = 5

#: The soft time limit assumed for a task type that declares none. Such a type runs under the worker's
#: TASK_TIME_LIMIT, a deployment setting ops cannot see when it renders; an hour is the longest work
#: the shipped types let a client ask for by default (the process type's MAX_DELAY). A deployment that
#: lets tasks run longer must raise consumer_timeout on its node as well.
UNDECLARED_TIME_LIMIT_SECONDS = 3600.0

#: Slack on top of the longest hold before RabbitMQ gives up on an unacknowledged delivery: a moment for
#: the worker to acknowledge it once the task has ended.
ACK_SLACK_SECONDS = 60

#: The vhost the committed definitions (and so the compose stack) use.
DEFAULT_VHOST = "taskgate"

Body = dict[str, Any]


@dataclass(frozen=True)
class Exchange:
    name: str
    type: str

    def body(self) -> Body:
        return {"type": self.type, "durable": True, "auto_delete": False, "internal": False, "arguments": {}}


@dataclass(frozen=True)
class Queue:
    """A durable queue with no x-argument but its type, exactly as the api and the workers declare a task
    queue: a declaration that differs from the broker's definition is refused with PRECONDITION_FAILED,
    so limits and dead-lettering come from policies instead."""

    name: str
    type: QueueType = "classic"

    def body(self) -> Body:
        return {"durable": True, "auto_delete": False, "arguments": task_queue_arguments(self.type)}


@dataclass(frozen=True)
class Binding:
    source: str
    destination: str
    routing_key: str

    def body(self) -> Body:
        return {"routing_key": self.routing_key, "arguments": {}}


@dataclass(frozen=True)
class Policy:
    name: str
    queue: str
    dead_letter_exchange: str
    #: Set on quorum queues, which count deliveries: past it a message is dead-lettered.
    delivery_limit: int | None = None

    def body(self) -> Body:
        definition: Body = {
            "dead-letter-exchange": self.dead_letter_exchange,
            "max-length": QUEUE_MAX_LENGTH,
            "overflow": "reject-publish",
        }
        if self.delivery_limit is not None:
            definition["delivery-limit"] = self.delivery_limit
        return {
            "pattern": f"^{re.escape(self.queue)}$",
            "apply-to": "queues",
            "priority": 0,
            "definition": definition,
        }


@dataclass(frozen=True)
class Topology:
    vhost: str
    exchanges: tuple[Exchange, ...]
    queues: tuple[Queue, ...]
    bindings: tuple[Binding, ...]
    policies: tuple[Policy, ...]

    def definitions(self) -> Body:
        """The definitions document RabbitMQ imports; users are left out, so it holds no secret."""
        return {
            "vhosts": [{"name": self.vhost}],
            "exchanges": [{"name": e.name, "vhost": self.vhost, **e.body()} for e in self.exchanges],
            "queues": [{"name": q.name, "vhost": self.vhost, **q.body()} for q in self.queues],
            "bindings": [
                {
                    "source": b.source,
                    "vhost": self.vhost,
                    "destination": b.destination,
                    "destination_type": "queue",
                    **b.body(),
                }
                for b in self.bindings
            ],
            "policies": [{"name": p.name, "vhost": self.vhost, **p.body()} for p in self.policies],
        }


def dead_letter_name(queue: str) -> str:
    """The exchange and the queue that receive what `queue` dead-letters share this name (contracts'
    convention, which the api's dead-letter listing reads too)."""
    return dead_letter_queue(queue)


def build_topology(vhost: str, registry: Registry, queue_type: QueueType = "classic") -> Topology:
    """Every queue the registry's task types use, once each however many types share it, of `queue_type`
    (RABBITMQ_QUEUE_TYPE), their dead-letter queues too: on a cluster, what is dead-lettered must
    survive the loss of a node as well."""
    exchange_type = task_exchange_type(queue_type)
    delivery_limit = DELIVERY_LIMIT if queue_type == "quorum" else None
    exchanges: list[Exchange] = []
    declared: list[Queue] = []
    bindings: list[Binding] = []
    policies: list[Policy] = []
    for queue in registry.queues():
        dead = dead_letter_name(queue)
        # The task exchange mirrors the worker's: named after the queue, routed by that name.
        exchanges += [Exchange(queue, exchange_type), Exchange(dead, "fanout")]
        declared += [Queue(queue, queue_type), Queue(dead, queue_type)]
        bindings += [Binding(queue, queue, queue), Binding(dead, dead, "")]
        policies.append(Policy(f"{queue}.limits", queue, dead, delivery_limit))
    return Topology(vhost, tuple(exchanges), tuple(declared), tuple(bindings), tuple(policies))


def longest_hold_seconds(spec: TaskSpec[Any, Any]) -> float:
    """How long a worker may hold a delivery of this type before it acknowledges it.

    With late acknowledgement that is as long as the task runs: up to its soft time limit, then the
    grace until the hard limit kills it. A retry is a new message with a countdown, which the worker
    holds, unacknowledged, until the countdown ends (up to the policy's backoff_max), and then runs.
    """
    soft_limit = UNDECLARED_TIME_LIMIT_SECONDS if spec.soft_time_limit is None else spec.soft_time_limit
    countdown = spec.retry.backoff_max if spec.retry.retries else 0
    return countdown + soft_limit + HARD_LIMIT_GRACE_SECONDS


def consumer_timeout_ms(registry: Registry) -> int:
    """RabbitMQ's delivery-acknowledgement timeout: longer than any task type may hold a delivery.

    It is node-wide: RabbitMQ has no per-queue consumer timeout before 3.12, so the longest type sets
    it for all. A node with no task types yet gets what a type without a declared limit would need.
    """
    holds = (longest_hold_seconds(spec) for spec in registry)
    longest = max(holds, default=UNDECLARED_TIME_LIMIT_SECONDS + HARD_LIMIT_GRACE_SECONDS)
    return math.ceil((longest + ACK_SLACK_SECONDS) * 1000)
