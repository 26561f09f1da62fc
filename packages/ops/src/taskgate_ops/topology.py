"""RabbitMQ topology as data, generated from the task signatures in contracts.

One description serves both ways the broker gets it: `definitions.json`, which RabbitMQ imports at boot
(compose), and `taskgate-ops rabbitmq bootstrap`, which applies it to a running broker through the
management API. Each entity knows its management-API body; a definitions entry is that body plus its
name and vhost.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from taskgate_contracts import ALL_TASKS, TaskSpec

#: Messages a task queue holds at most; past it RabbitMQ refuses new ones (backpressure on the api)
#: instead of growing until the node runs out of memory.
QUEUE_MAX_LENGTH = 10_000

#: Slack on top of the longest task before RabbitMQ gives up on an unacknowledged delivery: with late
#: acknowledgement a worker holds the delivery for as long as the task runs, plus a moment to ack it.
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
    """A durable queue with no x-arguments, exactly as Celery declares the task queue: a declaration
    that differs from the broker's definition is refused with PRECONDITION_FAILED, so limits and
    dead-lettering come from policies instead."""

    name: str

    def body(self) -> Body:
        return {"durable": True, "auto_delete": False, "arguments": {}}


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

    def body(self) -> Body:
        return {
            "pattern": f"^{re.escape(self.queue)}$",
            "apply-to": "queues",
            "priority": 0,
            "definition": {
                "dead-letter-exchange": self.dead_letter_exchange,
                "max-length": QUEUE_MAX_LENGTH,
                "overflow": "reject-publish",
            },
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
    """The exchange and the queue that receive what `queue` dead-letters share this name."""
    return f"{queue}.dead-letter"


def build_topology(vhost: str, tasks: Iterable[TaskSpec[Any, Any]] = ALL_TASKS) -> Topology:
    queues = sorted({task.queue for task in tasks})
    exchanges: list[Exchange] = []
    declared: list[Queue] = []
    bindings: list[Binding] = []
    policies: list[Policy] = []
    for queue in queues:
        dead = dead_letter_name(queue)
        # The task exchange mirrors Celery's: a direct exchange named after the queue, routed by that name.
        exchanges += [Exchange(queue, "direct"), Exchange(dead, "fanout")]
        declared += [Queue(queue), Queue(dead)]
        bindings += [Binding(queue, queue, queue), Binding(dead, dead, "")]
        policies.append(Policy(f"{queue}.limits", queue, dead))
    return Topology(vhost, tuple(exchanges), tuple(declared), tuple(bindings), tuple(policies))


def consumer_timeout_ms(tasks: Iterable[TaskSpec[Any, Any]] = ALL_TASKS) -> int:
    """RabbitMQ's delivery-acknowledgement timeout: longer than the longest task a client may ask for."""
    longest = max(task.max_delay + task.hard_limit_grace for task in tasks)
    return int((longest + ACK_SLACK_SECONDS) * 1000)
