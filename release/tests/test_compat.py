"""The schema gate: which snapshots a contract may break, and what the report says."""

import copy
from pathlib import Path

import pytest

from release.compat import judge, main, released_snapshots, report
from taskgate_contracts import __version__
from taskgate_contracts.schemas import export, write

#: What renaming an argument breaks: readers of the old contract miss the old name and, forbidding
#: undeclared arguments, refuse the new one.
RENAME_BREAKS = [
    "tasks.json taskgate.process arguments.delay: field removed or renamed (new fields here: seconds)",
    "tasks.json taskgate.process arguments.seconds: new field that readers on the old contract refuse "
    "(they forbid extras)",
]


def renamed_delay() -> dict[str, dict[str, dict[str, object]]]:
    contract = export()
    broken = copy.deepcopy(contract)
    fields = broken["tasks"]["taskgate.process"]["arguments"]["properties"]
    assert isinstance(fields, dict)
    fields["seconds"] = fields.pop("delay")
    return broken


def test_a_break_of_the_same_major_version_fails_and_of_an_older_one_is_allowed() -> None:
    snapshots = {"0.1.0": export(), "1.4.0": export()}

    verdicts = judge("1.5.0", renamed_delay(), snapshots)

    assert [(v.snapshot, len(v.breaks), v.allowed, v.failed) for v in verdicts] == [
        ("0.1.0", 2, True, False),
        ("1.4.0", 2, False, True),
    ]


def test_the_report_names_the_change_and_the_way_out() -> None:
    text = report("0.2.0", judge("0.2.0", renamed_delay(), {"0.1.0": export()}), origin="site-packages")

    assert text.splitlines() == [
        "taskgate-contracts 0.2.0 (site-packages) against 1 released snapshot(s):",
        "  0.1.0: 2 breaking change(s), NOT allowed: same major version",
        *[f"    - {found}" for found in RENAME_BREAKS],
        "FAILED: the contract breaks released version(s) 0.1.0 without a major version bump. "
        "Restore what the changes above removed or narrowed, or release the contract as 1.0.0 "
        "(packages/contracts/src/taskgate_contracts/version.py and CHANGELOG.md).",
    ]


def test_snapshots_are_read_in_version_order_and_other_folders_ignored(tmp_path: Path) -> None:
    for version in ("0.10.0", "0.9.0"):
        write(tmp_path, version)
    (tmp_path / "README").mkdir()

    assert list(released_snapshots(tmp_path)) == ["0.9.0", "0.10.0"]


def test_the_command_passes_on_the_current_contract_and_fails_on_a_broken_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, __version__)  # a snapshot of this major version, which the current one must not break
    assert main(["--snapshots", str(tmp_path)]) == 0
    assert f"{__version__}: compatible" in capsys.readouterr().out

    # A snapshot that declared a field the current contract lacks: the current one removed it.
    tasks = tmp_path / __version__ / "tasks.json"
    tasks.write_text(tasks.read_text().replace('"delay"', '"legacy_delay"'))
    assert main(["--snapshots", str(tmp_path)]) == 1
    assert (
        "taskgate.process arguments.legacy_delay: field removed or renamed (new fields here: delay)"
        in capsys.readouterr().out
    )


def test_no_snapshot_at_all_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--snapshots", str(tmp_path)]) == 1
    assert "no released snapshot" in capsys.readouterr().err
