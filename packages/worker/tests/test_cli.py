import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from taskgate_worker import factory
from taskgate_worker.__main__ import _parser, hosting_overrides, main, worker_argv
from taskgate_worker.config import WorkerSettings, load_settings
from taskgate_worker.hosting import Hosting, plan
from taskgate_worker.version import __version__

NODE = "taskgate-all-7@box"


def _run_cli(
    tmp_path: Path, *args: str, code: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The worker's command line in a clean environment; `code` runs before it, in its process."""
    program = ["-m", "taskgate_worker", *args] if code is None else ["-c", code]
    return subprocess.run(
        [sys.executable, *program],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _stopped_with_one_line(finished: subprocess.CompletedProcess[str]) -> str:
    assert finished.returncode == 2
    assert finished.stderr.count("\n") == 1
    assert "Traceback" not in finished.stderr
    return finished.stderr.strip()


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("TASK_TIME_LIMIT", "-1", "invalid setting TASK_TIME_LIMIT: Input should be greater than 0"),
        ("WORKER_CONCURRENCY", "many", "invalid setting WORKER_CONCURRENCY: Input should be a valid integer"),
        (
            "TASK_TIME_LIMITS",
            "process=soon",
            "invalid setting TASK_TIME_LIMITS: process: 'soon' is not a number",
        ),
        (
            "TASK_TIME_LIMITS",
            "process",
            "invalid setting TASK_TIME_LIMITS: expected name=seconds, got 'process'",
        ),
        ("TASK_TIME_LIMITS", "report=5", "invalid setting TASK_TIME_LIMITS: no task type named 'report'"),
        ("MAX_DELAY", "0", "invalid setting MAX_DELAY: Input should be greater than 0"),
        (
            "THUMBNAIL_MAX_PIXELS",
            "lots",
            "invalid setting THUMBNAIL_MAX_PIXELS: Input should be a valid integer",
        ),
        ("WORKER_TASKS", "report", "cannot host task type 'report': it is not installed"),
        ("WORKER_QUEUES", "reports", "cannot host queue 'reports': no installed task type uses it"),
        ("LOG_FORMAT", "xml", "invalid setting LOG_FORMAT: Input should be 'json' or 'text'"),
        ("OTEL_TRACES_EXPORTER", "jaeger", "invalid setting OTEL_TRACES_EXPORTER: 'jaeger' is not supported"),
    ],
)
def test_wrong_setting_stops_the_worker_with_one_line(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    assert _stopped_with_one_line(_run_cli(tmp_path, **{name: value})).startswith(line)


def test_a_wrong_setting_in_dotenv_stops_the_worker_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MAX_DELAY=-5\n")

    line = _stopped_with_one_line(_run_cli(tmp_path))

    assert line == "invalid setting MAX_DELAY: Input should be greater than 0"


@pytest.mark.parametrize(
    ("option", "line"),
    [
        ("--tasks=process,report", "cannot host task type 'report': it is not installed"),
        ("--queues=reports", "cannot host queue 'reports': no installed task type uses it"),
    ],
)
def test_a_wrong_choice_on_the_command_line_stops_the_worker(tmp_path: Path, option: str, line: str) -> None:
    assert _stopped_with_one_line(_run_cli(tmp_path, option)).startswith(line)


def test_without_pillow_the_worker_says_what_to_install(tmp_path: Path) -> None:
    without_pillow = (
        "import sys; sys.modules['PIL'] = None; from taskgate_worker.__main__ import main; main()"
    )

    line = _stopped_with_one_line(_run_cli(tmp_path, code=without_pillow))

    assert line.startswith("cannot load taskgate.handlers entry point thumbnail = ")
    assert line.endswith(
        "module 'PIL' is not installed: install taskgate-worker[thumbnail], "
        "or host other task types with --tasks"
    )


def test_events_are_always_sent_and_the_node_is_named() -> None:
    argv = worker_argv(_parser().parse_args([]), NODE)
    assert argv == ["worker", "--task-events", "--loglevel=info", f"--hostname={NODE}"]


def test_options_are_passed_to_the_worker() -> None:
    args = _parser().parse_args(["--concurrency", "3", "--log-level", "DEBUG", "--hostname", "w1@%h"])
    assert worker_argv(args, NODE) == [
        "worker",
        "--task-events",
        "--loglevel=debug",
        "--concurrency=3",
        "--hostname=w1@%h",
    ]


def test_tasks_and_queues_override_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKER_TASKS", "other")
    args = _parser().parse_args(["--tasks", "process, thumbnail", "--queues", "taskgate"])
    settings = load_settings(**hosting_overrides(args))

    assert settings.worker_tasks == ("process", "thumbnail")
    assert settings.worker_queues == ("taskgate",)
    assert hosting_overrides(_parser().parse_args([])) == {}


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_concurrency_must_be_a_positive_number(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--concurrency", value])
    assert exited.value.code == 2
    assert "--concurrency" in capsys.readouterr().err


def test_main_starts_a_worker_named_after_what_it_hosts(
    monkeypatch: pytest.MonkeyPatch, app: Celery, settings: WorkerSettings
) -> None:
    hosting = plan(settings.model_copy(update={"task_time_limits": {}}), environ={})
    chosen: list[dict[str, object]] = []
    started: list[list[str]] = []

    def configured(**overrides: object) -> tuple[Celery, Hosting]:
        chosen.append(overrides)
        return app, hosting

    monkeypatch.setattr(factory, "configured", configured)
    monkeypatch.setattr(app, "worker_main", started.append)
    main(["--concurrency", "2", "--tasks", "process"])

    assert chosen == [{"worker_tasks": "process"}]
    (argv,) = started
    assert argv[:4] == ["worker", "--task-events", "--loglevel=info", "--concurrency=2"]
    assert re.fullmatch(rf"--hostname=taskgate-all-{os.getpid()}@.+", argv[4])


@pytest.mark.parametrize(
    ("option", "line"),
    [
        ("--log-level=bogus", "taskgate-worker: error: argument --log-level: invalid choice: 'bogus'"),
        ("--concurrency=two", "taskgate-worker: error: argument --concurrency: not a whole number: 'two'"),
        ("--bogus", "taskgate-worker: error: unrecognized arguments: --bogus"),
        (
            "--show-completion=csh",
            "taskgate-worker: error: argument --show-completion: invalid choice: 'csh'",
        ),
    ],
)
def test_a_wrong_option_is_one_line_before_anything_starts(tmp_path: Path, option: str, line: str) -> None:
    assert _stopped_with_one_line(_run_cli(tmp_path, option)).startswith(line)


def test_version(tmp_path: Path) -> None:
    assert _run_cli(tmp_path, "--version").stdout == f"taskgate-worker {__version__}\n"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_show_completion_prints_the_shell_s_script(tmp_path: Path, shell: str) -> None:
    finished = _run_cli(tmp_path, "--show-completion", shell)
    assert finished.returncode == 0
    assert "taskgate-worker" in finished.stdout


def test_the_former_loglevel_spelling_still_works() -> None:
    assert _parser().parse_args(["--loglevel", "WARNING"]).log_level == "warning"
