"""Task types that clash stop every command that reads them: one line, exit code 2, nothing done."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from taskgate_ops.cli import app


@pytest.mark.usefixtures("clashing_types")
@pytest.mark.parametrize(
    "command",
    [["rabbitmq", "render", "--out", "{out}"], ["rabbitmq", "bootstrap"], ["doctor"], ["up"]],
    ids=["render", "bootstrap", "doctor", "up"],
)
def test_clashing_task_types_stop_the_command_with_one_line(command: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [word.format(out=out) for word in command], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("error: task type ")
    assert "is declared twice" in line
    assert "taskgate-test-plugin 1.0" in line
    assert "Traceback" not in result.output
    assert not out.exists()
