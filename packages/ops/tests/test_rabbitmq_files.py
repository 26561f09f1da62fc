"""The files RabbitMQ boots with: generated from the task types, deterministic, secret-free, committed."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taskgate_contracts import QueueType, discover
from taskgate_ops.cli import app
from taskgate_ops.rabbitmq_files import DEFINITIONS_MOUNT, render, rendered_files
from taskgate_ops.topology import DEFAULT_VHOST, QUEUE_MAX_LENGTH, consumer_timeout_ms, dead_letter_name

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "packages" / "ops" / "rabbitmq"
REGISTRY = discover()


@pytest.mark.parametrize(
    ("queue_type", "folder"),
    [("classic", COMMITTED), ("quorum", COMMITTED / "quorum")],
    ids=["compose", "k8s"],
)
def test_committed_copies_equal_a_fresh_render(queue_type: QueueType, folder: Path) -> None:
    fresh = rendered_files(DEFAULT_VHOST, REGISTRY, queue_type)
    committed = {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir() if path.is_file()}
    command = f"taskgate-ops rabbitmq render --queue-type {queue_type} --out {folder.relative_to(ROOT)}"
    assert committed == fresh, f"run `{command}` and commit"


def test_render_writes_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = render(tmp_path / "first", "some-vhost", REGISTRY)
    second = render(tmp_path / "second", "some-vhost", REGISTRY)
    assert [path.name for path in first] == ["rabbitmq.conf", "enabled_plugins", "definitions.json"]
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]


def definitions(vhost: str = DEFAULT_VHOST) -> dict[str, list[dict[str, object]]]:
    loaded: dict[str, list[dict[str, object]]] = json.loads(
        rendered_files(vhost, REGISTRY)["definitions.json"]
    )
    return loaded


def test_every_installed_type_has_its_queue() -> None:
    names = {queue["name"] for queue in definitions()["queues"]}
    assert {spec.queue for spec in REGISTRY} <= names
    # The shipped types do not share a queue, so each has its own and its dead-letter queue.
    assert len(names) == 2 * len(REGISTRY)


def test_every_task_queue_is_durable_without_x_arguments_as_the_worker_declares_it() -> None:
    queues = {queue["name"]: queue for queue in definitions("v1")["queues"]}
    for queue in REGISTRY.queues():
        assert queues[queue] == {
            "name": queue,
            "vhost": "v1",
            "durable": True,
            "auto_delete": False,
            "arguments": {},
        }


def test_a_policy_gives_each_task_queue_dead_lettering_and_backpressure() -> None:
    document = definitions()
    policies = {policy["name"]: policy for policy in document["policies"]}
    assert set(policies) == {f"{queue}.limits" for queue in REGISTRY.queues()}
    for queue in REGISTRY.queues():
        policy, dead = policies[f"{queue}.limits"], dead_letter_name(queue)
        assert policy["apply-to"] == "queues"
        assert policy["definition"] == {
            "dead-letter-exchange": dead,
            "max-length": QUEUE_MAX_LENGTH,
            "overflow": "reject-publish",
        }
        assert {"name": dead, "type": "fanout"}.items() <= next(
            exchange for exchange in document["exchanges"] if exchange["name"] == dead
        ).items()
        assert any(entry["name"] == dead and entry["durable"] for entry in document["queues"])
        assert {(b["source"], b["destination"]) for b in document["bindings"]} >= {
            (queue, queue),
            (dead, dead),
        }


def test_definitions_hold_no_user_and_no_secret() -> None:
    document = definitions()
    assert "users" not in document
    assert "permissions" not in document
    text = rendered_files(DEFAULT_VHOST, REGISTRY)["definitions.json"]
    assert "password" not in text
    assert "guest" not in text


def test_the_conf_carries_the_consumer_timeout_of_the_registry() -> None:
    conf = rendered_files(DEFAULT_VHOST, REGISTRY)["rabbitmq.conf"].splitlines()
    assert f"consumer_timeout = {consumer_timeout_ms(REGISTRY)}" in conf
    assert f"load_definitions = {DEFINITIONS_MOUNT}" in conf


def test_management_and_prometheus_plugins_are_enabled() -> None:
    assert (
        rendered_files(DEFAULT_VHOST, REGISTRY)["enabled_plugins"]
        == "[rabbitmq_management,rabbitmq_prometheus].\n"
    )


@pytest.mark.usefixtures("plugin_types")
def test_render_finds_a_plugins_types(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["rabbitmq", "render", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "definitions.json").read_text())
    names = [queue["name"] for queue in document["queues"]]
    # The plug-in's two types share one queue, which appears once beside the shipped ones.
    assert names.count("acme") == 1
    assert {spec.queue for spec in REGISTRY} <= set(names)
    # Its types may run for two hours: the node's timeout grows to match.
    assert "consumer_timeout = 7265000" in (tmp_path / "rabbitmq.conf").read_text().splitlines()
