"""The topology and the consumer timeout, from registries of task types made up for each test."""

from typing import Any

import pytest
from pydantic import BaseModel

from taskgate_contracts import Registry, RetryPolicy, TaskSpec
from taskgate_contracts.tasks import HARD_LIMIT_GRACE_SECONDS
from taskgate_ops.topology import (
    ACK_SLACK_SECONDS,
    DELIVERY_LIMIT,
    UNDECLARED_TIME_LIMIT_SECONDS,
    build_topology,
    consumer_timeout_ms,
    dead_letter_name,
)


class Nothing(BaseModel):
    pass


def spec(
    name: str, queue: str = "", soft_time_limit: float | None = None, **extra: Any
) -> TaskSpec[Any, Any]:
    return TaskSpec(
        name=name,
        args=Nothing,
        result=Nothing,
        description=f"The {name} type.",
        queue=queue,
        soft_time_limit=soft_time_limit,
        **extra,
    )


#: `resize` and `crop` share the `images` queue; `report` and `alpha` have queues of their own.
MIXED = Registry.of([spec("resize", "images"), spec("report"), spec("crop", "images"), spec("alpha")])
MIXED_QUEUES = ["images", "taskgate.alpha", "taskgate.report"]


def test_each_queue_appears_once_however_many_types_share_it() -> None:
    topology = build_topology("v", MIXED)
    task_queues = [queue.name for queue in topology.queues if not queue.name.endswith(".dead-letter")]
    assert task_queues == MIXED_QUEUES
    assert [policy.queue for policy in topology.policies] == MIXED_QUEUES


def test_each_queue_gets_its_exchange_dead_lettering_and_limits() -> None:
    topology = build_topology("v", MIXED)
    exchanges = {(exchange.name, exchange.type) for exchange in topology.exchanges}
    queues = {queue.name for queue in topology.queues}
    bindings = {(b.source, b.destination, b.routing_key) for b in topology.bindings}
    policies = {(p.name, p.queue, p.dead_letter_exchange) for p in topology.policies}
    for queue in MIXED_QUEUES:
        dead = dead_letter_name(queue)
        assert {(queue, "direct"), (dead, "fanout")} <= exchanges
        assert {queue, dead} <= queues
        assert {(queue, queue, queue), (dead, dead, "")} <= bindings
        assert (f"{queue}.limits", queue, dead) in policies
    # Nothing else: two exchanges, two queues, two bindings and one policy per task queue.
    assert (len(exchanges), len(queues), len(bindings), len(policies)) == (6, 6, 6, 3)


def test_a_policy_matches_its_own_queue_only() -> None:
    # `taskgate` must not catch `taskgate.thumbnail`'s messages in its limits.
    registry = Registry.of([spec("plain", "taskgate"), spec("thumbnail")])
    patterns = {policy.name: policy.body()["pattern"] for policy in build_topology("v", registry).policies}
    assert patterns == {
        "taskgate.limits": "^taskgate$",
        "taskgate.thumbnail.limits": r"^taskgate\.thumbnail$",
    }


def test_the_definitions_name_the_vhost_everywhere() -> None:
    definitions = build_topology("elsewhere", MIXED).definitions()
    assert definitions["vhosts"] == [{"name": "elsewhere"}]
    for kind in ("exchanges", "queues", "bindings", "policies"):
        assert {entry["vhost"] for entry in definitions[kind]} == {"elsewhere"}


def seconds(registry: Registry) -> float:
    return consumer_timeout_ms(registry) / 1000 - ACK_SLACK_SECONDS - HARD_LIMIT_GRACE_SECONDS


def test_the_consumer_timeout_follows_the_longest_declared_limit() -> None:
    registry = Registry.of([spec("quick", soft_time_limit=30), spec("slow", soft_time_limit=900)])
    assert consumer_timeout_ms(registry) == (900 + HARD_LIMIT_GRACE_SECONDS + ACK_SLACK_SECONDS) * 1000


def test_a_type_without_a_limit_counts_as_the_ceiling() -> None:
    registry = Registry.of([spec("quick", soft_time_limit=30), spec("open")])
    assert seconds(registry) == UNDECLARED_TIME_LIMIT_SECONDS


def test_a_declared_limit_above_the_ceiling_wins() -> None:
    registry = Registry.of([spec("open"), spec("long", soft_time_limit=7200)])
    assert seconds(registry) == 7200


def test_a_retry_countdown_is_held_too() -> None:
    retried = spec("flaky", soft_time_limit=100, retry=RetryPolicy(attempts=3, backoff=2, backoff_max=120))
    once = spec("once", soft_time_limit=100, retry=RetryPolicy(attempts=1, backoff=2, backoff_max=120))
    assert seconds(Registry.of([retried])) == 220
    assert seconds(Registry.of([once])) == 100


def test_fractions_of_a_millisecond_round_up() -> None:
    assert consumer_timeout_ms(Registry.of([spec("tiny", soft_time_limit=0.0001)])) == 65_001


@pytest.mark.parametrize("registry", [Registry.of([]), Registry.of([spec("open")])])
def test_no_types_or_only_open_ones_get_the_ceiling(registry: Registry) -> None:
    assert seconds(registry) == UNDECLARED_TIME_LIMIT_SECONDS


def test_quorum_queues_carry_their_type_route_through_topic_exchanges_and_limit_deliveries() -> None:
    topology = build_topology("v", MIXED, "quorum")
    assert {queue.body()["arguments"]["x-queue-type"] for queue in topology.queues} == {"quorum"}
    task_exchanges = {e.type for e in topology.exchanges if not e.name.endswith(".dead-letter")}
    assert task_exchanges == {"topic"}
    assert {policy.body()["definition"]["delivery-limit"] for policy in topology.policies} == {DELIVERY_LIMIT}


def test_classic_queues_are_declared_without_arguments_or_delivery_limit() -> None:
    topology = build_topology("v", MIXED)
    assert {str(queue.body()["arguments"]) for queue in topology.queues} == {"{}"}
    assert all("delivery-limit" not in policy.body()["definition"] for policy in topology.policies)
