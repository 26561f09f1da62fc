"""The canonical OpenAPI document a release snapshots: the built-in task types at their default settings,
whatever the environment, `.env` or the installed plug-ins say, and the command that writes and checks it."""

from pathlib import Path

import pytest

from taskgate_api import openapi
from taskgate_api.version import __version__
from taskgate_contracts import builtin


def test_the_canonical_document_ignores_the_deployment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plain = openapi.canonical_document()
    monkeypatch.setenv("MAX_DELAY", "5")
    monkeypatch.setenv("API_KEYS", "a-key")
    monkeypatch.setenv("TASK_TIMEOUT", "7")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MAX_BODY_BYTES=10\nTHUMBNAIL_MAX_PIXELS=100\n")

    assert openapi.canonical_document() == plain
    assert "securitySchemes" not in plain["components"]
    wait = plain["paths"]["/tasks/{task_id}"]["get"]["parameters"][1]
    assert (wait["name"], wait["schema"]["maximum"]) == ("wait", 30.0)
    assert plain["components"]["schemas"]["ProcessArgs"]["properties"]["delay"]["maximum"] == 3600


def test_it_holds_the_built_in_task_types_only() -> None:
    paths = openapi.canonical_document()["paths"]
    assert sorted(path for path in paths if path.startswith("/run/")) == sorted(
        f"/run/{spec.name}" for spec in builtin.SPECS if not spec.internal
    )


def test_the_command_writes_a_snapshot_and_checks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert openapi.main(["--check", str(tmp_path)]) == 1
    assert f"no snapshot of {__version__} in {tmp_path}" in capsys.readouterr().err

    assert openapi.main(["--out", str(tmp_path)]) == 0
    path = tmp_path / f"{__version__}.json"
    assert capsys.readouterr().out == f"wrote {path}\n"
    assert openapi.read(path) == openapi.canonical_document()
    assert openapi.main(["--check", str(tmp_path)]) == 0

    path.write_text(path.read_text().replace('"operationId": "get_task"', '"operationId": "fetch_task"'))
    assert openapi.main(["--check", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{__version__}.json: paths differs from the current document",
        f"write it with: python -m taskgate_api.openapi --out {tmp_path}",
    ]


def test_the_command_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert openapi.main([]) == 0
    assert capsys.readouterr().out == openapi.dumps(openapi.canonical_document())
