"""The snapshot gates: which snapshots a contract or the api's OpenAPI document may break, and what the
reports say."""

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from release.compat import Surface, api_surface, contracts_surface, judge, main, released, report
from taskgate_api import openapi
from taskgate_api.version import __version__ as api_version
from taskgate_contracts import __version__
from taskgate_contracts.schemas import export, read, write

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


def contracts(version: str, current: Any, snapshots: dict[str, Any]) -> Surface:
    """The contracts' surface at `version`, as `current`, against `snapshots`."""
    surface = contracts_surface(Path("unused"))
    return dataclasses.replace(surface, version=version, current=current, snapshots=snapshots, origin="here")


def test_a_break_of_the_same_major_version_fails_and_of_an_older_one_is_allowed() -> None:
    snapshots = {"0.1.0": export(), "1.4.0": export()}

    verdicts = judge(contracts("1.5.0", renamed_delay(), snapshots))

    assert [(v.snapshot, len(v.breaks), v.allowed, v.failed) for v in verdicts] == [
        ("0.1.0", 2, True, False),
        ("1.4.0", 2, False, True),
    ]


def test_the_report_names_the_change_and_the_way_out() -> None:
    surface = contracts("0.2.0", renamed_delay(), {"0.1.0": export()})
    text = report(surface, judge(surface))

    assert text.splitlines() == [
        "taskgate-contracts 0.2.0 (here) against 1 released snapshot(s):",
        "  0.1.0: 2 breaking change(s), NOT allowed: same major version",
        *[f"    - {found}" for found in RENAME_BREAKS],
        "FAILED: the contract breaks released version(s) 0.1.0 without a major version bump. "
        "Restore what the changes above removed, narrowed or widened, or release taskgate-contracts as "
        "1.0.0 (packages/contracts/src/taskgate_contracts/version.py and CHANGELOG.md).",
    ]


def test_the_snapshot_of_the_version_being_made_may_be_written_anew() -> None:
    surface = contracts("0.2.0", renamed_delay(), {"0.2.0": export()})

    assert report(surface, judge(surface)).splitlines()[-1] == (
        "  0.2.0 is the version being made: until it is released (tagged), its snapshot may be written "
        "anew: python -m taskgate_contracts.schemas --out packages/contracts/schemas"
    )


def test_snapshots_are_read_in_version_order_and_other_entries_ignored(tmp_path: Path) -> None:
    for version in ("0.10.0", "0.9.0"):
        write(tmp_path, version)
    (tmp_path / "README").mkdir()

    assert list(released(tmp_path, read)) == ["0.9.0", "0.10.0"]

    documents = tmp_path / "openapi"
    for version in ("1.0.0", "0.10.0", "0.9.1"):
        openapi.write(documents, version)
    (documents / "README.md").write_text("not a snapshot")

    assert list(released(documents, openapi.read)) == ["0.9.1", "0.10.0", "1.0.0"]


@pytest.fixture
def snapshots(tmp_path: Path) -> tuple[Path, Path]:
    """Snapshots of the current contract and OpenAPI document, as a release of this version writes them."""
    schemas, documents = tmp_path / "schemas", tmp_path / "openapi"
    write(schemas, __version__)
    openapi.write(documents, api_version)
    return schemas, documents


def arguments(snapshots: tuple[Path, Path]) -> list[str]:
    return ["--snapshots", str(snapshots[0]), "--documents", str(snapshots[1])]


def test_the_command_passes_on_the_current_contract_and_document(
    snapshots: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arguments(snapshots)) == 0
    out = capsys.readouterr().out
    assert f"{__version__}: compatible" in out
    assert f"taskgate-api {api_version} (" in out
    assert f"  {api_version}: compatible" in out


def test_the_command_fails_on_a_broken_contract_snapshot(
    snapshots: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # A snapshot that declared a field the current contract lacks: the current one removed it.
    tasks = snapshots[0] / __version__ / "tasks.json"
    tasks.write_text(tasks.read_text().replace('"delay"', '"legacy_delay"'))
    assert main(arguments(snapshots)) == 1
    assert (
        "taskgate.process arguments.legacy_delay: field removed or renamed (new fields here: delay)"
        in capsys.readouterr().out
    )


def test_the_command_fails_on_a_broken_openapi_snapshot(
    snapshots: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # A snapshot with an operation and a header the current document lacks: the current one removed them.
    path = snapshots[1] / f"{api_version}.json"
    document = json.loads(path.read_text())
    document["paths"]["/tasks/{task_id}"]["patch"] = document["paths"]["/tasks/{task_id}"]["delete"]
    document["paths"]["/tasks"]["post"]["responses"]["202"]["headers"]["X-Queue"] = {"schema": {}}
    path.write_text(json.dumps(document))

    assert main(arguments(snapshots)) == 1
    out = capsys.readouterr().out
    assert f"  {api_version}: 2 breaking change(s), NOT allowed: same major version" in out
    assert "    - POST /tasks 202 header X-Queue: header removed" in out
    assert "    - PATCH /tasks/{task_id}: operation removed" in out
    assert "FAILED: the OpenAPI document breaks released version(s)" in out


def test_an_older_major_version_s_document_may_be_broken(tmp_path: Path) -> None:
    surface = api_surface(tmp_path)
    older = copy.deepcopy(surface.current)
    older["paths"]["/gone"] = {"get": {"operationId": "gone", "responses": {}}}
    bumped = dataclasses.replace(surface, version="1.0.0", snapshots={"0.3.0": older})

    (verdict,) = judge(bumped)
    assert (verdict.allowed, verdict.failed, [str(found) for found in verdict.breaks]) == (
        True,
        False,
        ["/gone: path removed or renamed"],
    )


def test_no_snapshot_at_all_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--snapshots", str(tmp_path), "--documents", str(tmp_path)]) == 1
    assert "no released snapshot" in capsys.readouterr().err
