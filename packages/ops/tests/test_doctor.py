"""`doctor` on a stack that is not there: one line per check, what to do, and a failing exit code."""

import socket

import pytest
from typer.testing import CliRunner

from taskgate_ops.cli import app
from taskgate_ops.doctor import CHECKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def dead_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every address points at a loopback port nothing listens on."""
    monkeypatch.setenv("PORT_AMQP", str(free_port()))
    monkeypatch.setenv("PORT_WEB", str(free_port()))
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("TASKGATE_API_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("TASKGATE_FLOWER_URL", f"http://127.0.0.1:{free_port()}")


@pytest.mark.usefixtures("dead_stack")
def test_doctor_reports_every_check_and_fails() -> None:
    result = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") >= 4}
    assert set(rows) >= {check.name for check in CHECKS}
    for check in CHECKS:
        expected = "FAIL" if check.required else "warn"
        assert expected in rows[check.name], rows[check.name]
    assert "rabbitmq-plugins enable rabbitmq_management" in result.output
    assert "start one: `taskgate-worker`" in result.output
    assert "the stack is not healthy" in result.output
    assert "Traceback" not in result.output
