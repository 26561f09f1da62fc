"""A wrong setting stops the api at start with one line naming it."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from taskgate_api.config import ApiSettings

WRONG = {
    "TASK_TIMEOUT": ("-1", "greater than 0"),
    "MAX_DELAY": ("abc", "valid number"),
    "PORT_AMQP": ("99999", "less than 65536"),
    "ENVIRONMENT": ("staging", "'development' or 'production'"),
}


@pytest.mark.parametrize(("name", "value", "reason"), [(n, v, r) for n, (v, r) in WRONG.items()])
def test_cli_refuses_wrong_setting(name: str, value: str, reason: str, tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "taskgate_api", "--port", "1"],
        env={name: value, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=str(tmp_path),
    )
    assert result.returncode == 2
    assert f"invalid setting {name}:" in result.stderr
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "TASK_TIMEOUT": "12.5",
        "RABBITMQ_HOST": "rabbit",
        "RABBITMQ_DEFAULT_USER": "app",
        "RABBITMQ_DEFAULT_PASS": "s3cret",
        "PORT_AMQP": "5673",
        "PORT_WEB": "15673",
        "RABBITMQ_VHOST": "taskgate",
        "MAX_DELAY": "60",
    }.items():
        monkeypatch.setenv(name, value)
    settings = ApiSettings(_env_file=None)
    assert settings.task_timeout == 12.5
    assert settings.max_delay == 60
    assert settings.broker_url == "amqp://app:s3cret@rabbit:5673/taskgate"
    assert settings.management_url == "http://rabbit:15673"


def test_production_refuses_default_credentials() -> None:
    with pytest.raises(ValidationError, match="RABBITMQ_DEFAULT_PASS"):
        ApiSettings(environment="production", _env_file=None)
    settings = ApiSettings(
        environment="production",
        rabbitmq_default_user="app",
        rabbitmq_default_pass="long-secret",
        _env_file=None,
    )
    assert settings.environment == "production"
