"""`taskgate-ops`'s command line, as every taskgate command's: one line and exit code 2 for a wrong option."""

from pathlib import Path

import pytest

from taskgate_ops.cli import main
from taskgate_ops.version import __version__


def exit_of(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[object, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return exited.value.code, out, err


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--bogus"], "taskgate-ops: error: No such option"),
        (["nope"], "taskgate-ops: error: No such command 'nope'."),
        (["rabbitmq", "nope"], "taskgate-ops rabbitmq: error: No such command 'nope'."),
        (["up", "--api-port", "x"], "taskgate-ops up: error: Invalid value for '--api-port'"),
        (["up", "--flower-port", "70000"], "taskgate-ops up: error: Invalid value for '--flower-port'"),
        (["flower", "--log-level", "bogus"], "taskgate-ops flower: error: Invalid value for '--log-level'"),
        (["doctor", "--bogus"], "taskgate-ops doctor: error: No such option"),
    ],
)
def test_a_wrong_option_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], line: str
) -> None:
    code, out, err = exit_of(capsys, *argv)
    assert (code, out) == (2, "")
    [said] = err.splitlines()
    assert said.startswith(line)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_of(capsys, "--version") == (0, f"taskgate-ops {__version__}\n", "")


@pytest.mark.parametrize("argv", [[], ["rabbitmq"]])
def test_without_a_command_it_shows_its_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = exit_of(capsys, *argv)
    assert code == 0
    assert "Usage: taskgate-ops" in out


def test_a_folder_render_cannot_write_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    code, _, err = exit_of(capsys, "rabbitmq", "render", "--out", str(blocked / "rabbitmq"))
    assert code == 2
    assert err == f"error: --out {blocked / 'rabbitmq'}: cannot write there: Not a directory\n"


def test_a_flower_db_folder_that_cannot_be_made_names_the_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("FLOWER_DB", str(blocked / "flower" / "flower.db"))
    code, _, err = exit_of(capsys, "flower", "--insecure-dev")
    assert code == 2
    assert err.startswith(f"error: invalid setting FLOWER_DB: cannot create {blocked / 'flower'}: ")
