"""The api's settings, and its task types' own (MAX_DELAY is the process type's): read from the environment
and `.env`; a wrong one stops the api at start with one line naming it."""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings
from taskgate_contracts import describe_settings_error
from taskgate_contracts.builtin.process import ProcessSettings

WRONG = {
    "TASK_TIMEOUT": ("-1", "greater than 0"),
    "MAX_DELAY": ("abc", "valid number"),
    "MAX_DELAY=-1": ("-1", "greater than 0"),
    "THUMBNAIL_MAX_PIXELS": ("0", "greater than 0"),
    "PORT_AMQP": ("99999", "less than 65536"),
    "ENVIRONMENT": ("staging", "'development' or 'production'"),
    "LOG_FORMAT": ("xml", "'json' or 'text'"),
    "OTEL_TRACES_EXPORTER": ("zipkin", "use otlp (over HTTP) or none"),
    "OTEL_EXPORTER_OTLP_PROTOCOL": ("grpc", "use http/protobuf"),
    "REDIS_SENTINELS": ("sentinel-1", "expected host:port"),
}


def serve(cwd: Path, **env: str) -> "subprocess.CompletedProcess[str]":
    """`python -m taskgate_api` as an operator starts it, with only the given variables."""
    return subprocess.run(
        [sys.executable, "-m", "taskgate_api", "--port", "1"],
        env={**env, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
    )


@pytest.mark.parametrize(("name", "value", "reason"), [(n, v, r) for n, (v, r) in WRONG.items()], ids=WRONG)
def test_cli_refuses_wrong_setting_in_one_line(name: str, value: str, reason: str, tmp_path: Path) -> None:
    variable = name.partition("=")[0]
    result = serve(tmp_path, **{variable: value})
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"invalid setting {variable}: ")
    assert reason in line


def test_cli_reads_a_task_type_s_setting_from_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MAX_DELAY=abc\n")
    result = serve(tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("invalid setting MAX_DELAY: ")


@pytest.mark.parametrize(("value", "reason"), [("abc", "valid number"), ("-1", "greater than 0")])
def test_create_app_refuses_a_wrong_max_delay(
    monkeypatch: pytest.MonkeyPatch, unreachable_settings: ApiSettings, value: str, reason: str
) -> None:
    monkeypatch.setenv("MAX_DELAY", value)
    with pytest.raises(ValidationError) as refused:
        create_app(unreachable_settings)
    [line] = describe_settings_error(refused.value).splitlines()
    assert line.startswith("invalid setting MAX_DELAY: ")
    assert reason in line


def max_delay(settings: ApiSettings) -> float:
    """MAX_DELAY as the app it makes reads it."""
    process = create_app(settings).state.task_types["process"]
    assert isinstance(process.settings, ProcessSettings)
    return process.settings.max_delay


def test_max_delay_is_the_process_type_s_setting_not_the_api_s(
    monkeypatch: pytest.MonkeyPatch, unreachable_settings: ApiSettings
) -> None:
    assert "max_delay" not in ApiSettings.model_fields
    assert max_delay(unreachable_settings) == 3600
    monkeypatch.setenv("MAX_DELAY", "60")
    assert max_delay(unreachable_settings) == 60


def test_dot_env_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, unreachable_settings: ApiSettings, tmp_path: Path
) -> None:
    # The tests run in tmp_path (conftest), where `.env` is looked for.
    (tmp_path / ".env").write_text("MAX_DELAY=30\n")
    assert max_delay(unreachable_settings) == 30
    monkeypatch.setenv("MAX_DELAY", "45")
    assert max_delay(unreachable_settings) == 45


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
    assert settings.broker_url == "amqp://app:s3cret@rabbit:5673/taskgate"
    assert settings.management_url == "http://rabbit:15673"
    assert max_delay(settings) == 60


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


def test_an_empty_value_means_the_default_as_in_every_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # As a copied `.env.example` leaves them: empty in `.env`, or empty in the environment.
    (tmp_path / ".env").write_text("TASK_TIMEOUT=\nAPI_KEYS=\nMAX_BODY_BYTES=\n")
    monkeypatch.setenv("SUBMIT_CONCURRENCY", "")
    monkeypatch.setenv("PORT_AMQP", "")
    settings = ApiSettings()
    assert (settings.task_timeout, settings.api_keys, settings.max_body_bytes) == (30.0, [], 1_048_576)
    assert (settings.submit_concurrency, settings.port_amqp) == (32, 5672)


def test_secrets_may_be_files_named_like_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # As compose's `secrets:` mounts them in /run/secrets: one file each, a line each.
    for name in ("API_KEYS", "RABBITMQ_DEFAULT_PASS", "REDIS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "API_KEYS").write_text("key-one, key-two\n")
    (tmp_path / "RABBITMQ_DEFAULT_PASS").write_text("rabbit-secret\n")
    (tmp_path / "REDIS_PASSWORD").write_text("redis secret\n")

    settings = ApiSettings(_env_file=None, _secrets_dir=tmp_path)

    assert [key.secret.get_secret_value() for key in settings.api_keys] == ["key-one", "key-two"]
    assert settings.broker_url == "amqp://guest:rabbit-secret@127.0.0.1:5672/%2F"
    assert settings.redis_url.get_secret_value() == "redis://:redis%20secret@127.0.0.1:6379/0"
    # The environment wins over a file, as it wins over `.env`.
    monkeypatch.setenv("API_KEYS", "from-the-environment")
    overridden = ApiSettings(_env_file=None, _secrets_dir=tmp_path)
    assert [key.secret.get_secret_value() for key in overridden.api_keys] == ["from-the-environment"]
