"""`taskgate-api`'s command line: a wrong option is one line and exit code 2, before anything starts."""

import subprocess
import sys
from pathlib import Path

import pytest

from taskgate_api.__main__ import SHELLS, _parser
from taskgate_api.version import __version__


def command(tmp_path: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "taskgate_api", *args],
        env={"PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--log-level", "bogus"], "argument --log-level: invalid choice: 'bogus'"),
        (["--port", "http"], "argument --port: not a whole number: 'http'"),
        (["--port", "70000"], "argument --port: must be from 0 to 65535, got 70000"),
        (["--backlog", "0"], "argument --backlog: must be at least 1, got 0"),
        (["--workers", "none"], "argument --workers: not a whole number: 'none'"),
        (["--workers", "0"], "argument --workers: must be at least 1, got 0"),
        (["--show-completion", "csh"], "argument --show-completion: invalid choice: 'csh'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_a_wrong_option_is_one_line_and_exit_2(tmp_path: Path, args: list[str], complaint: str) -> None:
    finished = command(tmp_path, *args)
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert line == f"taskgate-api: error: {complaint}" or line.startswith(
        f"taskgate-api: error: {complaint} ("
    )


def test_log_level_is_taken_in_any_case() -> None:
    assert _parser().parse_args(["--log-level", "WARNING"]).log_level == "warning"


def test_version(tmp_path: Path) -> None:
    assert command(tmp_path, "--version").stdout == f"taskgate-api {__version__}\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_show_completion_prints_the_shell_s_script(tmp_path: Path, shell: str) -> None:
    finished = command(tmp_path, "--show-completion", shell)
    assert finished.returncode == 0
    assert "taskgate-api" in finished.stdout
