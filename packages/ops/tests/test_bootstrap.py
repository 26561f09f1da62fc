"""`rabbitmq bootstrap` against this machine's real broker, on a vhost of the test's own."""

import json
import time

import amqp
import pytest
from kombu.connection import Connection
from typer.testing import CliRunner

from taskgate_contracts import discover
from taskgate_ops.bootstrap import Outcome, bootstrap
from taskgate_ops.cli import app
from taskgate_ops.management import ManagementApi, ManagementError, segment
from taskgate_ops.rabbitmq_files import definitions_json
from taskgate_ops.topology import DELIVERY_LIMIT, build_topology, dead_letter_name

runner = CliRunner()
REGISTRY = discover()
#: Any one of the task queues, for the tests that tamper with one.
QUEUE = next(iter(REGISTRY.queues()))


def outcomes(api: ManagementApi, vhost: str) -> set[Outcome]:
    return {change.outcome for change in bootstrap(api, build_topology(vhost, REGISTRY))}


def test_a_second_run_changes_nothing(management: ManagementApi, vhost: str) -> None:
    first = bootstrap(management, build_topology(vhost, REGISTRY))
    assert {change.kind for change in first if change.outcome is Outcome.CREATED} == {
        "vhost",
        "exchange",
        "queue",
        "binding",
        "policy",
    }
    assert outcomes(management, vhost) == {Outcome.UNCHANGED}


def test_every_task_queue_gets_its_policy(management: ManagementApi, vhost: str) -> None:
    bootstrap(management, build_topology(vhost, REGISTRY))
    # The management API reports a queue's policy with its statistics, which lag by a few seconds.
    deadline = time.monotonic() + 15
    for name in REGISTRY.queues():
        queue = management.get(f"/queues/{segment(vhost)}/{segment(name)}")
        while not queue.get("policy") and time.monotonic() < deadline:
            time.sleep(0.5)
            queue = management.get(f"/queues/{segment(vhost)}/{segment(name)}")
        assert queue["durable"] is True
        assert queue["arguments"] == {}
        assert queue.get("policy") == f"{name}.limits"


def test_a_changed_policy_is_put_back(management: ManagementApi, vhost: str) -> None:
    bootstrap(management, build_topology(vhost, REGISTRY))
    path = f"/policies/{segment(vhost)}/{segment(QUEUE)}.limits"
    management.put(path, {"pattern": f"^{QUEUE}$", "definition": {"max-length": 1}, "apply-to": "queues"})
    changes = bootstrap(management, build_topology(vhost, REGISTRY))
    assert [(c.kind, c.outcome) for c in changes if c.outcome is not Outcome.UNCHANGED] == [
        ("policy", Outcome.UPDATED)
    ]


def test_a_queue_declared_otherwise_is_reported_not_replaced(management: ManagementApi, vhost: str) -> None:
    management.put(f"/vhosts/{segment(vhost)}", {})
    management.put(f"/queues/{segment(vhost)}/{segment(QUEUE)}", {"durable": False, "arguments": {}})
    with pytest.raises(ManagementError, match=f"queue '{QUEUE}' already exists with other properties"):
        bootstrap(management, build_topology(vhost, REGISTRY))


def test_the_rendered_definitions_describe_the_same_topology(management: ManagementApi, vhost: str) -> None:
    # RabbitMQ accepts the file compose mounts, and bootstrap then finds nothing to add.
    management.post("/definitions", json.loads(definitions_json(vhost, REGISTRY)))
    assert outcomes(management, vhost) == {Outcome.UNCHANGED}


def test_the_command_says_when_nothing_changed(
    management: ManagementApi, vhost: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RABBITMQ_VHOST", vhost)
    assert runner.invoke(app, ["rabbitmq", "bootstrap"]).exit_code == 0
    second = runner.invoke(app, ["rabbitmq", "bootstrap"])
    assert second.exit_code == 0
    assert "nothing to change" in second.output


@pytest.mark.usefixtures("plugin_types")
def test_the_command_applies_the_queue_of_a_plugins_types(
    management: ManagementApi, vhost: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RABBITMQ_VHOST", vhost)
    result = runner.invoke(app, ["rabbitmq", "bootstrap"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    names = {queue["name"] for queue in management.get(f"/queues/{segment(vhost)}")}
    assert names == {
        name for queue in [*REGISTRY.queues(), "acme"] for name in (queue, f"{queue}.dead-letter")
    }
    assert management.get(f"/policies/{segment(vhost)}/acme.limits") is not None


def test_wrong_credentials_are_named_without_a_traceback(
    management: ManagementApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RABBITMQ_DEFAULT_PASS", "not-the-password")
    result = runner.invoke(app, ["rabbitmq", "bootstrap"])
    assert result.exit_code == 1
    assert "refused the credentials of user 'guest'" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_api_is_named_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT_WEB", "1")
    result = runner.invoke(app, ["rabbitmq", "bootstrap"])
    assert result.exit_code == 1
    assert "management API is unreachable at http://127.0.0.1:1" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_node_is_passed_over_for_one_that_answers(management: ManagementApi) -> None:
    with ManagementApi(["http://127.0.0.1:1", management.url], "guest", "guest") as api:
        assert api.get("/overview")["rabbitmq_version"]
        # The node that answered is asked first from now on.
        assert api.url == management.url


def test_a_classic_queue_is_not_redeclared_as_quorum(management: ManagementApi, vhost: str) -> None:
    bootstrap(management, build_topology(vhost, REGISTRY))
    with pytest.raises(ManagementError, match=f"{QUEUE!r} already exists with other properties"):
        bootstrap(management, build_topology(vhost, REGISTRY, "quorum"))


def test_a_message_past_the_delivery_limit_is_dead_lettered(management: ManagementApi, vhost: str) -> None:
    # A message that every consumer gives back, as one that crashes every worker taking it would be.
    bootstrap(management, build_topology(vhost, REGISTRY, "quorum"))
    assert management.get(f"/queues/{segment(vhost)}/{segment(QUEUE)}")["type"] == "quorum"
    with Connection(f"amqp://guest:guest@127.0.0.1:5672/{segment(vhost)}") as connection:
        channel = connection.channel()
        channel.basic_publish(amqp.Message(b"poison", delivery_mode=2), exchange=QUEUE, routing_key=QUEUE)
        deliveries = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = channel.basic_get(QUEUE)
            if message is None:
                dead = channel.basic_get(dead_letter_name(QUEUE))
                if dead is not None:
                    break
                time.sleep(0.1)
                continue
            deliveries += 1
            channel.basic_reject(message.delivery_tag, requeue=True)
        else:
            pytest.fail(f"not dead-lettered after {deliveries} deliveries")
    assert dead.body == b"poison"
    assert deliveries == DELIVERY_LIMIT + 1
