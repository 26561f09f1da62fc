from pathlib import Path

import pytest

from taskgate_worker.config import InvalidSettingsError, load_settings


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No `.env` or variable from the machine running the tests leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in ("WORKER_CONCURRENCY", "TASK_TIMEOUT", "TASK_TIME_LIMIT", "ENVIRONMENT", "PORT_AMQP"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_follow_the_seed() -> None:
    settings = load_settings()
    assert settings.worker_concurrency == 1
    assert settings.task_timeout == 30
    assert settings.soft_time_limit == 30


def test_time_limit_defaults_to_the_task_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASK_TIMEOUT", "12.5")
    assert load_settings().soft_time_limit == 12.5
    monkeypatch.setenv("TASK_TIME_LIMIT", "4")
    assert load_settings().soft_time_limit == 4


def test_empty_value_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASK_TIME_LIMIT", "")
    assert load_settings().soft_time_limit == 30


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WORKER_CONCURRENCY=3\nTASK_TIME_LIMIT=7\n")
    settings = load_settings()
    assert (settings.worker_concurrency, settings.soft_time_limit) == (3, 7)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "WORKER_CONCURRENCY",
            "0",
            "invalid setting WORKER_CONCURRENCY: Input should be greater than or equal to 1",
        ),
        ("WORKER_CONCURRENCY", "two", "invalid setting WORKER_CONCURRENCY: Input should be a valid integer"),
        ("TASK_TIMEOUT", "-1", "invalid setting TASK_TIMEOUT: Input should be greater than 0"),
        ("TASK_TIMEOUT", "soon", "invalid setting TASK_TIMEOUT: Input should be a valid number"),
        ("TASK_TIME_LIMIT", "0", "invalid setting TASK_TIME_LIMIT: Input should be greater than 0"),
        ("TASK_TIME_LIMIT", "inf", "invalid setting TASK_TIME_LIMIT: Input should be a finite number"),
        ("PORT_AMQP", "70000", "invalid setting PORT_AMQP: Input should be less than 65536"),
    ],
)
def test_wrong_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_each_wrong_setting_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_CONCURRENCY", "0")
    monkeypatch.setenv("TASK_TIMEOUT", "-5")
    with pytest.raises(InvalidSettingsError) as raised:
        load_settings()
    lines = str(raised.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "invalid setting WORKER_CONCURRENCY",
        "invalid setting TASK_TIMEOUT",
    ]


def test_default_credentials_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(InvalidSettingsError, match="RABBITMQ_DEFAULT_PASS must be set to a real secret"):
        load_settings()
