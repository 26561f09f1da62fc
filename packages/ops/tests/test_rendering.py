"""The files RabbitMQ boots with: generated from contracts, deterministic, secret-free, committed."""

import json
from pathlib import Path

from taskgate_contracts import ALL_TASKS, PROCESS
from taskgate_ops.rendering import DEFINITIONS_MOUNT, render, rendered_files
from taskgate_ops.topology import DEFAULT_VHOST, QUEUE_MAX_LENGTH, consumer_timeout_ms, dead_letter_name

COMMITTED = Path(__file__).resolve().parents[1] / "rabbitmq"


def test_committed_copies_equal_a_fresh_render() -> None:
    fresh = rendered_files(DEFAULT_VHOST)
    committed = {path.name: path.read_text(encoding="utf-8") for path in COMMITTED.iterdir()}
    assert committed == fresh, "run `taskgate-ops rabbitmq render --out packages/ops/rabbitmq` and commit"


def test_render_writes_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = render(tmp_path / "first", "some-vhost")
    second = render(tmp_path / "second", "some-vhost")
    assert [path.name for path in first] == ["rabbitmq.conf", "enabled_plugins", "definitions.json"]
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]


def definitions(vhost: str = DEFAULT_VHOST) -> dict[str, list[dict[str, object]]]:
    loaded: dict[str, list[dict[str, object]]] = json.loads(rendered_files(vhost)["definitions.json"])
    return loaded


def test_every_task_queue_is_durable_without_x_arguments_as_the_worker_declares_it() -> None:
    queues = {queue["name"]: queue for queue in definitions("v1")["queues"]}
    for task in ALL_TASKS:
        assert queues[task.queue] == {
            "name": task.queue,
            "vhost": "v1",
            "durable": True,
            "auto_delete": False,
            "arguments": {},
        }


def test_a_policy_gives_the_task_queue_dead_lettering_and_backpressure() -> None:
    document = definitions()
    (policy,) = document["policies"]
    dead = dead_letter_name(PROCESS.queue)
    assert policy["pattern"] == f"^{PROCESS.queue}$"
    assert policy["apply-to"] == "queues"
    assert policy["definition"] == {
        "dead-letter-exchange": dead,
        "max-length": QUEUE_MAX_LENGTH,
        "overflow": "reject-publish",
    }
    assert {"name": dead, "type": "fanout"}.items() <= next(
        exchange for exchange in document["exchanges"] if exchange["name"] == dead
    ).items()
    assert any(queue["name"] == dead and queue["durable"] for queue in document["queues"])
    assert {(b["source"], b["destination"]) for b in document["bindings"]} >= {(dead, dead)}


def test_definitions_hold_no_user_and_no_secret() -> None:
    document = definitions()
    assert "users" not in document
    assert "permissions" not in document
    text = rendered_files(DEFAULT_VHOST)["definitions.json"]
    assert "password" not in text
    assert "guest" not in text


def test_the_consumer_timeout_outlasts_the_longest_task_a_client_may_ask_for() -> None:
    conf = rendered_files(DEFAULT_VHOST)["rabbitmq.conf"]
    assert f"consumer_timeout = {consumer_timeout_ms()}" in conf.splitlines()
    assert consumer_timeout_ms() > (PROCESS.max_delay + PROCESS.hard_limit_grace) * 1000
    assert f"load_definitions = {DEFINITIONS_MOUNT}" in conf.splitlines()


def test_management_and_prometheus_plugins_are_enabled() -> None:
    assert rendered_files(DEFAULT_VHOST)["enabled_plugins"] == "[rabbitmq_management,rabbitmq_prometheus].\n"
