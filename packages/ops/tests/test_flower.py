"""How Flower is launched: credentials required, secrets kept off the command line, state persisted."""

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taskgate_ops.cli import app
from taskgate_ops.config import OpsSettings, SettingsError, load_settings
from taskgate_ops.flower import flower_launch

SECRET = "s3cret-pass"


def settings(**values: object) -> OpsSettings:
    return OpsSettings.model_validate({"rabbitmq_default_pass": SECRET, **values})


def test_flower_refuses_to_start_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    result = CliRunner().invoke(app, ["flower"])
    assert result.exit_code == 2
    assert "FLOWER_BASIC_AUTH is not set" in result.output
    assert "--insecure-dev" in result.output


def test_the_launch_carries_credentials_and_persistence(tmp_path: Path) -> None:
    launch = flower_launch(
        settings(flower_basic_auth="admin:pw", flower_db=tmp_path / "flower.db"), 5555, "0.0.0.0", False, {}
    )
    assert launch.argv[:4] == [sys.executable, "-m", "taskgate_ops.flowerprocess", "flower"]
    assert {"--port=5555", "--address=0.0.0.0", "--persistent=True", f"--db={tmp_path / 'flower.db'}"} <= set(
        launch.argv
    )
    assert "--max_tasks=10000" in launch.argv
    assert "--purge_offline_workers=300" in launch.argv
    assert launch.env["FLOWER_BASIC_AUTH"] == "admin:pw"
    assert launch.env["FLOWER_BROKER_API"] == f"http://guest:{SECRET}@127.0.0.1:15672/api/"
    assert launch.env["CELERY_BROKER_URL"] == f"amqp://guest:{SECRET}@127.0.0.1:5672/%2F"


def test_flower_follows_every_node_of_a_cluster() -> None:
    cluster = settings(flower_basic_auth="admin:pw", rabbitmq_hosts="r1:5672,r2:5672,r3:5672")
    launch = flower_launch(cluster, 5555, "0.0.0.0", False, {})
    # Celery's failover form: its events reconnect to the next node when one is lost.
    assert launch.env["CELERY_BROKER_URL"] == ";".join(
        f"amqp://guest:{SECRET}@{node}:5672/%2F" for node in ("r1", "r2", "r3")
    )
    assert launch.env["FLOWER_BROKER_API"] == f"http://guest:{SECRET}@r1:15672/api/"


def test_no_secret_is_on_the_command_line() -> None:
    launch = flower_launch(settings(flower_basic_auth="admin:pw"), 5555, "0.0.0.0", False, {})
    assert not any(SECRET in arg or "admin:pw" in arg for arg in launch.argv)


def test_insecure_dev_drops_auth_and_listens_on_loopback_only() -> None:
    launch = flower_launch(settings(), 5555, "0.0.0.0", True, {"FLOWER_BASIC_AUTH": "stale:pair"})
    assert "--address=127.0.0.1" in launch.argv
    assert "FLOWER_BASIC_AUTH" not in launch.env
    assert launch.env["FLOWER_UNAUTHENTICATED_API"] == "true"


@pytest.mark.parametrize("value", ["admin", ":pw", "admin:", "a:b,broken"])
def test_malformed_credentials_are_refused_by_name(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWER_BASIC_AUTH", value)
    with pytest.raises(SettingsError, match="FLOWER_BASIC_AUTH: must be user:password"):
        load_settings()


def test_production_refuses_a_placeholder_flower_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("RABBITMQ_DEFAULT_USER", "taskgate")
    monkeypatch.setenv("RABBITMQ_DEFAULT_PASS", SECRET)
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "admin:changethis")
    with pytest.raises(SettingsError, match="placeholder password in production"):
        load_settings()


def test_a_wrong_number_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWER_MAX_TASKS", "lots")
    result = CliRunner().invoke(app, ["flower"])
    assert result.exit_code == 2
    assert "invalid setting FLOWER_MAX_TASKS" in result.output
