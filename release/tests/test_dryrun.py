"""The checks of a release dry run that need no build: sibling ranges, the changelog, the contract."""

from email.message import Message
from pathlib import Path

import pytest

from release.dryrun import changelog_problems, contract_problems, document_problems, sibling_problems
from release.project import OPENAPI_SNAPSHOTS, SNAPSHOTS, Package
from taskgate_api import openapi
from taskgate_contracts.schemas import write


def metadata(*requires: str) -> Message:
    message = Message()
    for requirement in requires:
        message["Requires-Dist"] = requirement
    return message


def test_siblings_must_be_required_through_a_bounded_range() -> None:
    assert sibling_problems(metadata("taskgate-contracts<1,>=0.1", "celery[redis]==5.4.0")) == []
    assert sibling_problems(metadata("taskgate-contracts==0.1.0", "taskgate-ops>=0.1", "taskgate-api<2")) == [
        f"{requirement}: siblings need a range such as >=0.1,<1, released on their own"
        for requirement in ("taskgate-contracts==0.1.0", "taskgate-ops>=0.1", "taskgate-api<2")
    ]


@pytest.mark.parametrize(
    ("text", "problems", "notes"),
    [
        ("## 0.2.0 — 2026-12-01\n", [], []),
        (
            "## 0.2.0 — unreleased\n",
            [],
            ["the entry reads '## 0.2.0 — unreleased': give it the release date before tagging"],
        ),
        ("## 0.1.0 — 2026-11-01\n", ["packages/api/CHANGELOG.md has no `## 0.2.0` entry"], []),
    ],
)
def test_the_changelog_needs_an_entry_for_the_version(
    tmp_path: Path, text: str, problems: list[str], notes: list[str]
) -> None:
    changelog = tmp_path / "packages" / "api" / "CHANGELOG.md"
    changelog.parent.mkdir(parents=True)
    changelog.write_text(f"# Changelog\n\n{text}")

    assert changelog_problems(Package("api"), "0.2.0", tmp_path) == (problems, notes)


def test_contracts_are_released_only_with_their_snapshot(tmp_path: Path) -> None:
    problems = contract_problems("0.1.0", tmp_path)
    assert problems[0] == f"no snapshot of 0.1.0 in {tmp_path / SNAPSHOTS}"
    assert "python -m taskgate_contracts.schemas --out packages/contracts/schemas" in problems[1]

    write(tmp_path / SNAPSHOTS, "0.1.0")
    assert contract_problems("0.1.0", tmp_path) == []


def test_the_api_is_released_only_with_its_openapi_snapshot(tmp_path: Path) -> None:
    problems = document_problems("0.3.0", tmp_path)
    assert problems[0] == f"no snapshot of 0.3.0 in {tmp_path / OPENAPI_SNAPSHOTS}"
    assert "uv run --frozen python -m taskgate_api.openapi --out packages/api/openapi" in problems[1]

    path = openapi.write(tmp_path / OPENAPI_SNAPSHOTS, "0.3.0")
    assert document_problems("0.3.0", tmp_path) == []

    # A snapshot written before the last change of the document: an answer it no longer has.
    stale = openapi.read(path)
    stale["paths"]["/healthz"]["get"]["responses"]["204"] = {"description": "gone since"}
    path.write_text(openapi.dumps(stale))
    assert document_problems("0.3.0", tmp_path)[0] == "0.3.0.json: paths differs from the current document"
