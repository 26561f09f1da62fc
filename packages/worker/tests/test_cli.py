import subprocess
import sys
from pathlib import Path

import pytest

from taskgate_worker.__main__ import _parser, main, worker_argv


def _run_cli(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskgate_worker"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("TASK_TIME_LIMIT", "-1", "invalid setting TASK_TIME_LIMIT: Input should be greater than 0"),
        ("WORKER_CONCURRENCY", "many", "invalid setting WORKER_CONCURRENCY: Input should be a valid integer"),
    ],
)
def test_wrong_setting_stops_the_worker_with_one_line(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    finished = _run_cli(tmp_path, **{name: value})
    assert finished.returncode == 2
    assert finished.stderr.startswith(line)
    assert finished.stderr.count("\n") == 1
    assert "Traceback" not in finished.stderr


def test_events_are_always_sent() -> None:
    argv = worker_argv(_parser().parse_args([]))
    assert argv == ["worker", "--task-events", "--loglevel=info"]


def test_options_are_passed_to_the_worker() -> None:
    args = _parser().parse_args(["--concurrency", "3", "--loglevel", "DEBUG", "--hostname", "w1@%h"])
    assert worker_argv(args) == [
        "worker",
        "--task-events",
        "--loglevel=debug",
        "--concurrency=3",
        "--hostname=w1@%h",
    ]


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_concurrency_must_be_a_positive_number(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--concurrency", value])
    assert exited.value.code == 2
    assert "--concurrency" in capsys.readouterr().err


def test_main_starts_the_worker_of_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskgate_worker.app import app

    started: list[list[str]] = []
    monkeypatch.setattr(app, "worker_main", started.append)
    main(["--concurrency", "2"])
    assert started == [["worker", "--task-events", "--loglevel=info", "--concurrency=2"]]
