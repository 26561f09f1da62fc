"""The exported JSON Schemas: what a release snapshots and `nox -s compat` checks later contracts against."""

import json
from pathlib import Path

import pytest

from taskgate_contracts import PROGRESS_STATE, __version__, history, responses
from taskgate_contracts.builtin import PROCESS, SPECS
from taskgate_contracts.schemas import export, main, read, snapshot_differences, write


def test_export_holds_every_group_that_crosses_a_process_boundary() -> None:
    contract = export()

    assert set(contract) == {"responses", "events", "tasks"}
    assert {"CompletedResponse", "PendingResponse", "FailedResponse", "TaskView"} <= set(
        contract["responses"]
    )
    assert "TaskEvent" in contract["events"]
    assert set(contract["tasks"]) == {spec.task_name for spec in SPECS}


def test_every_model_of_the_responses_and_history_modules_is_exported() -> None:
    """No list to keep: a model added to `responses` or `history` is part of the contract
    (TooLargeResponse was once missing from a hand-kept one)."""
    defined = {
        name
        for module in (responses, history)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and getattr(value, "__module__", "") == module.__name__
        and name[0].isupper()
        and hasattr(value, "model_json_schema")
    }
    assert defined == set(export()["responses"])
    assert {"TooLargeResponse", "TaskPage", "DeadLetter"} <= defined


def test_a_task_is_exported_with_its_queue_arguments_result_and_progress() -> None:
    task = export()["tasks"]["taskgate.process"]

    assert task["queue"] == PROCESS.queue
    assert task["arguments"]["properties"]["delay"]["type"] == "number"
    assert task["result"]["required"] == ["delay"]
    assert task["progress"]["state"] == PROGRESS_STATE
    assert set(task["progress"]["meta"]["properties"]) == {"percent", "current", "total", "message"}


def test_a_written_snapshot_reads_back_as_the_current_contract(tmp_path: Path) -> None:
    written = write(tmp_path)

    names = sorted(path.name for path in written)
    assert names == ["events.json", "responses.json", "tasks.json"]
    assert {path.parent for path in written} == {tmp_path / __version__}
    assert read(tmp_path / __version__) == export()
    assert snapshot_differences(tmp_path) == []


def test_snapshot_files_are_stable_text(tmp_path: Path) -> None:
    first = [path.read_bytes() for path in write(tmp_path / "a")]
    second = [path.read_bytes() for path in write(tmp_path / "b")]

    assert first == second
    assert all(text.endswith(b"}\n") for text in first)


def test_a_changed_snapshot_is_named_by_its_group(tmp_path: Path) -> None:
    write(tmp_path)
    tasks = tmp_path / __version__ / "tasks.json"
    document = json.loads(tasks.read_text())
    fields = document["taskgate.process"]["arguments"]["properties"]
    fields["duration"] = fields.pop("delay")
    tasks.write_text(json.dumps(document))

    assert snapshot_differences(tmp_path) == ["tasks.json differs from the current contract"]


def test_a_missing_snapshot_is_a_difference(tmp_path: Path) -> None:
    assert snapshot_differences(tmp_path, "9.9.9") == [f"no snapshot of 9.9.9 in {tmp_path}"]


def test_the_command_writes_checks_and_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert "write it with: python -m taskgate_contracts.schemas --out" in capsys.readouterr().err

    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    capsys.readouterr()

    assert main([]) == 0
    assert json.loads(capsys.readouterr().out) == export()
