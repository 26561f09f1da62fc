"""What taskgate-ops reads from the environment and `.env`."""

from pathlib import Path

import pytest

from taskgate_ops.config import OpsSettings


def test_an_empty_value_means_the_default_as_in_every_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("FLOWER_MAX_TASKS=\nTASKGATE_FLOWER_URL=\n")
    monkeypatch.setenv("TASKGATE_URL", "")
    settings = OpsSettings()
    assert (settings.flower_max_tasks, settings.taskgate_flower_url) == (10_000, "http://127.0.0.1:5555")
    assert settings.taskgate_url == "http://127.0.0.1:8000"


def test_doctor_finds_the_api_where_the_taskgate_command_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKGATE_URL", "http://api.internal:8000")
    assert OpsSettings(_env_file=None).taskgate_url == "http://api.internal:8000"


def test_flower_s_credentials_may_be_a_secret_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # As compose's `secrets:` mounts it: /run/secrets/FLOWER_BASIC_AUTH.
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    (tmp_path / "FLOWER_BASIC_AUTH").write_text("admin:a-real-secret\n")

    settings = OpsSettings(_env_file=None, _secrets_dir=tmp_path)

    assert settings.flower_basic_auth is not None
    assert settings.flower_basic_auth.get_secret_value() == "admin:a-real-secret"
