"""`doctor`: a line per check and per task queue, what to do, and an exit code that says if all is well."""

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from kombu.connection import Connection
from pydantic import BaseModel
from typer.testing import CliRunner

from taskgate_contracts import Registry, TaskSpec, discover
from taskgate_ops.bootstrap import bootstrap
from taskgate_ops.cli import app
from taskgate_ops.config import OpsSettings
from taskgate_ops.doctor import CHECKS, Result, Status, healthy, queue_result, queue_results, queue_row
from taskgate_ops.management import ManagementApi
from taskgate_ops.topology import build_topology


class Nothing(BaseModel):
    pass


def spec(name: str, queue: str = "") -> TaskSpec[Any, Any]:
    return TaskSpec(name=name, args=Nothing, result=Nothing, description=name, queue=queue)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# What a queue row says, from what the management API answered.

SHARED = (spec("resize", "images"), spec("crop", "images"))


def test_a_missing_queue_fails_and_says_to_bootstrap() -> None:
    result = queue_result("images", SHARED, None)
    assert (result.name, result.status) == ("Queue images", Status.FAIL)
    assert "missing from the broker" in result.detail
    assert "resize, crop" in result.detail
    assert "`taskgate-ops rabbitmq bootstrap`" in result.remedy


def test_a_queue_without_consumer_is_a_warning_naming_both_ways_to_serve_it() -> None:
    found = {"messages_ready": 7, "messages_unacknowledged": 0, "consumers": 0}
    result = queue_result("images", SHARED, found)
    assert result.status is Status.WARN
    assert result.detail.startswith("no consumer")
    assert "7 ready, 0 unacknowledged" in result.detail
    # A worker with --tasks must host every type on the queue, or the others' messages are lost to it.
    assert "`taskgate-worker --queues images`" in result.remedy
    assert "`taskgate-worker --tasks resize,crop`" in result.remedy


def test_a_consumed_queue_is_ok_with_its_counts() -> None:
    found = {"messages_ready": 3, "messages_unacknowledged": 2, "consumers": 4}
    result = queue_result("images", SHARED, found)
    assert result == Result(
        "Queue images",
        Status.OK,
        "task types: resize, crop; messages: 3 ready, 2 unacknowledged; consumers: 4",
    )


def test_a_queue_too_new_for_statistics_counts_as_empty() -> None:
    result = queue_result("images", SHARED, {"name": "images"})
    assert result.status is Status.WARN
    assert "0 ready, 0 unacknowledged" in result.detail


def test_warnings_leave_the_stack_healthy_failures_do_not() -> None:
    ok, warn, fail = (Result("x", status, "") for status in (Status.OK, Status.WARN, Status.FAIL))
    assert healthy([ok, warn])
    assert not healthy([ok, warn, fail])


# The queue rows from a real broker, on a vhost of the test's own.


@pytest.fixture
def broker_queues(management: ManagementApi, vhost: str) -> Iterator[tuple[OpsSettings, Registry]]:
    """`served` has a consumer and `idle` has none (both bootstrapped); `absent` was never created."""
    registry = Registry.of([spec("served"), spec("idle"), spec("absent")])
    bootstrap(management, build_topology(vhost, registry.subset(["served", "idle"])))
    with Connection(f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}") as connection:
        connection.channel().basic_consume(queue="taskgate.served", callback=lambda message: None)
        yield OpsSettings(rabbitmq_vhost=vhost), registry


def test_queue_rows_from_the_broker(broker_queues: tuple[OpsSettings, Registry]) -> None:
    settings, registry = broker_queues
    expected = {
        queue_row("taskgate.absent"): Status.FAIL,
        queue_row("taskgate.idle"): Status.WARN,
        queue_row("taskgate.served"): Status.OK,
    }
    # The management API counts consumers in its statistics, which lag by a few seconds.
    deadline = time.monotonic() + 15
    while (found := {r.name: r.status for r in queue_results(settings, registry)}) != expected:
        assert time.monotonic() < deadline, found
        time.sleep(0.5)


def test_redis_behind_sentinels_nobody_answers_for_fails_naming_them() -> None:
    sentinels = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    settings = OpsSettings(redis_sentinels=sentinels, redis_sentinel_master="results")
    [redis_check] = [check for check in CHECKS if check.name == "Redis"]
    result = redis_check.run(settings)
    assert result.status is Status.FAIL
    assert "No master found for 'results'" in result.detail
    assert "REDIS_SENTINELS" in result.remedy


def test_queue_rows_say_they_could_not_look_when_the_api_is_down() -> None:
    settings = OpsSettings(port_web=free_port())
    results = queue_results(settings, discover())
    assert [result.name for result in results] == [queue_row(queue) for queue in discover().queues()]
    for result in results:
        assert result.status is Status.FAIL
        assert result.detail.startswith("not checked: RabbitMQ management API is unreachable")


# The command on a stack that is not there.


@pytest.fixture
def dead_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every address points at a loopback port nothing listens on."""
    monkeypatch.setenv("PORT_AMQP", str(free_port()))
    monkeypatch.setenv("PORT_WEB", str(free_port()))
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("TASKGATE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("TASKGATE_FLOWER_URL", f"http://127.0.0.1:{free_port()}")


@pytest.mark.usefixtures("dead_stack")
def test_doctor_reports_every_check_and_queue_and_fails() -> None:
    result = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") >= 4}
    for check in CHECKS:
        expected = "FAIL" if check.required else "warn"
        assert expected in rows[check.name], rows[check.name]
    for queue in discover().queues():
        assert "FAIL" in rows[queue_row(queue)], rows[queue_row(queue)]
    assert "rabbitmq-plugins enable rabbitmq_management" in result.output
    assert "start one: `taskgate-worker`" in result.output
    assert "the stack is not healthy" in result.output
    assert "Traceback" not in result.output


def test_a_cluster_is_reachable_while_one_node_answers_and_the_others_are_named(
    management: ManagementApi,
) -> None:
    dead = free_port()
    settings = OpsSettings(_env_file=None, rabbitmq_hosts=f"127.0.0.1:{dead},127.0.0.1:5672")
    amqp = next(check for check in CHECKS if check.name == "RabbitMQ (AMQP)")
    result = amqp.run(settings)
    assert result.status is Status.OK
    assert result.detail.startswith("connected to 127.0.0.1:5672, vhost '/'; unreachable: ")
    assert f"127.0.0.1:{dead}: " in result.detail
