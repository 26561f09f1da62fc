"""`up`: the processes it starts, and its refusal to start a stack that cannot work."""

import socket
from collections.abc import Sequence
from typing import TextIO

import pytest
from typer.testing import CliRunner

from taskgate_contracts import discover
from taskgate_ops import cli, launcher
from taskgate_ops.cli import app
from taskgate_ops.launcher import LaunchError, executable, stack
from taskgate_ops.processgroup import ProcessSpec

runner = CliRunner()


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "admin:pw")


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console scripts as if installed in /opt/bin: ops' own tests run without the api and the worker."""
    monkeypatch.setattr(launcher, "executable", lambda name: f"/opt/bin/{name}")


def argvs(specs: Sequence[ProcessSpec]) -> dict[str, list[str]]:
    return {spec.name: list(spec.argv) for spec in specs}


@pytest.mark.usefixtures("scripts")
def test_by_default_one_worker_hosts_every_type() -> None:
    processes = argvs(stack(8000, 5555, 3, False, None))
    assert processes == {
        "worker": ["/opt/bin/taskgate-worker", "--log-level", "info", "--concurrency", "3"],
        "api": ["/opt/bin/taskgate-api", "--host", "127.0.0.1", "--port", "8000", "--log-level", "info"],
        "flower": [
            *("/opt/bin/taskgate-ops", "flower", "--address", "127.0.0.1", "--port", "5555"),
            *("--log-level", "info"),
        ],
    }


@pytest.mark.usefixtures("scripts")
def test_every_process_logs_at_the_level_asked_for() -> None:
    for argv in argvs(stack(8000, 5555, None, False, ["images"], log_level="debug")).values():
        assert argv[argv.index("--log-level") + 1] == "debug"


@pytest.mark.usefixtures("scripts")
def test_one_worker_per_queue_each_named_after_its_queue_with_the_same_concurrency() -> None:
    processes = argvs(stack(8000, 5555, 2, True, ["images", "taskgate.report"]))
    assert processes["worker[images]"] == [
        *("/opt/bin/taskgate-worker", "--log-level", "info"),
        "--concurrency",
        "2",
        "--queues",
        "images",
    ]
    assert processes["worker[taskgate.report]"] == [
        *("/opt/bin/taskgate-worker", "--log-level", "info"),
        "--concurrency",
        "2",
        "--queues",
        "taskgate.report",
    ]
    assert "worker" not in processes
    assert processes["flower"][-1] == "--insecure-dev"


@pytest.mark.usefixtures("scripts")
def test_without_concurrency_each_worker_takes_its_own_setting() -> None:
    processes = argvs(stack(8000, 5555, None, False, ["images"]))
    assert processes["worker[images]"] == [
        *("/opt/bin/taskgate-worker", "--log-level", "info"),
        *("--queues", "images"),
    ]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[ProcessSpec]:
    """What `up` hands its process group, which here runs nothing."""
    specs: list[ProcessSpec] = []

    class Recording:
        def __init__(self, processes: Sequence[ProcessSpec], output: TextIO) -> None:
            specs.extend(processes)

        def run(self) -> int:
            return 0

    monkeypatch.setattr(cli, "ProcessGroup", Recording)
    return specs


@pytest.mark.usefixtures("management", "scripts", "plugin_types")
def test_up_worker_per_queue_runs_a_worker_on_each_queue_of_the_registry(
    vhost: str, started: list[ProcessSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RABBITMQ_VHOST", vhost)
    result = runner.invoke(app, ["up", "--worker-per-queue", "--concurrency", "2"])
    assert result.exit_code == 0, result.output
    workers = [spec for spec in started if spec.name.startswith("worker")]
    # The plug-in's two types share the queue `acme`: one worker serves both.
    queues = list(discover().queues())
    assert "acme" in queues
    assert [spec.name for spec in workers] == [f"worker[{queue}]" for queue in queues]
    for spec in workers:
        queue = spec.name[len("worker[") : -1]
        assert list(spec.argv[1:]) == ["--log-level", "info", "--concurrency", "2", "--queues", queue]
    assert [spec.name for spec in started][-2:] == ["api", "flower"]


def test_up_names_an_unreachable_rabbitmq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT_WEB", str(dead_port()))
    result = runner.invoke(app, ["up"])
    assert result.exit_code == 1
    assert "RabbitMQ management is unreachable" in result.output
    assert "started" not in result.output


@pytest.mark.usefixtures("management")
def test_up_names_an_unreachable_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{dead_port()}/0")
    result = runner.invoke(app, ["up"])
    assert result.exit_code == 1
    assert "Redis is unreachable" in result.output
    assert "started" not in result.output


def test_up_refuses_to_run_flower_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWER_BASIC_AUTH")
    result = runner.invoke(app, ["up"])
    assert result.exit_code == 1
    assert "FLOWER_BASIC_AUTH is not set" in result.output


def test_a_missing_console_script_is_named() -> None:
    with pytest.raises(LaunchError, match="no-such-taskgate-script is not installed"):
        executable("no-such-taskgate-script")


@pytest.mark.usefixtures("scripts")
def test_the_stack_logs_as_up_is_read_unless_log_format_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert {spec.env["LOG_FORMAT"] for spec in stack(8000, 5555, None, False, None, "json") if spec.env} == {
        "json"
    }
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert {spec.env["LOG_FORMAT"] for spec in stack(8000, 5555, None, False, None, "json") if spec.env} == {
        "text"
    }
