"""`up` refuses to start a stack that cannot work, and names what is missing."""

import socket

import pytest
from typer.testing import CliRunner

from taskgate_ops.cli import app
from taskgate_ops.launcher import LaunchError, executable

runner = CliRunner()


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "admin:pw")


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
