from pathlib import Path

import pytest

from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.builtin.thumbnail import THUMBNAIL
from taskgate_worker.config import InvalidSettingsError, WorkerSettings, load_settings
from taskgate_worker.results import result_backend

from .testing_types import SLEEPY


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No `.env` or variable from the machine running the tests leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "WORKER_CONCURRENCY",
        "WORKER_TASKS",
        "WORKER_QUEUES",
        "TASK_TIMEOUT",
        "TASK_TIME_LIMIT",
        "TASK_TIME_LIMITS",
        "ENVIRONMENT",
        "PORT_AMQP",
    ):
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
    monkeypatch.setenv("TASK_TIME_LIMITS", "")
    monkeypatch.setenv("WORKER_TASKS", "")
    settings = load_settings()
    assert settings.soft_time_limit == 30
    assert (settings.task_time_limits, settings.worker_tasks) == ({}, ())


def test_a_task_types_time_limit_is_its_override_else_its_own_else_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TASK_TIME_LIMIT", "7")
    monkeypatch.setenv("TASK_TIME_LIMITS", f"{SLEEPY.name}=2.5, {PROCESS.name} = 40,")
    settings = load_settings()

    assert settings.task_time_limits == {SLEEPY.name: 2.5, PROCESS.name: 40}
    assert settings.soft_time_limit_of(SLEEPY) == 2.5  # over its own 60
    assert settings.soft_time_limit_of(PROCESS) == 40  # over TASK_TIME_LIMIT
    assert settings.soft_time_limit_of(THUMBNAIL) == 30  # its own, over TASK_TIME_LIMIT


def test_task_types_and_queues_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_TASKS", "process, thumbnail")
    monkeypatch.setenv("WORKER_QUEUES", "taskgate")
    settings = load_settings()
    assert (settings.worker_tasks, settings.worker_queues) == (("process", "thumbnail"), ("taskgate",))


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
        (
            "TASK_TIME_LIMITS",
            "process:5",
            "invalid setting TASK_TIME_LIMITS: expected name=seconds, got 'process:5'",
        ),
        ("TASK_TIME_LIMITS", "=5", "invalid setting TASK_TIME_LIMITS: expected name=seconds, got '=5'"),
        (
            "TASK_TIME_LIMITS",
            "process=",
            "invalid setting TASK_TIME_LIMITS: process: '' is not a number of seconds",
        ),
        (
            "TASK_TIME_LIMITS",
            "process=0",
            "invalid setting TASK_TIME_LIMITS: process: the time limit must be a positive number of seconds",
        ),
        (
            "TASK_TIME_LIMITS",
            "process=inf",
            "invalid setting TASK_TIME_LIMITS: process: the time limit must be a positive number of seconds",
        ),
        (
            "TASK_TIME_LIMITS",
            "process=1,process=2",
            "invalid setting TASK_TIME_LIMITS: process is given twice",
        ),
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


def test_the_redis_password_may_be_a_secret_file_the_result_backend_uses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # As compose's `secrets:` mounts it: /run/secrets/REDIS_PASSWORD, the URL naming only where Redis is.
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "REDIS_PASSWORD").write_text("s3cret/+\n")

    settings = WorkerSettings(_env_file=None, _secrets_dir=secrets)

    assert result_backend(settings)["result_backend"] == "redis://:s3cret%2F%2B@redis:6379/0"
