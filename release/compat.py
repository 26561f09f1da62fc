"""The snapshot half of `nox -s compat`: what the installed packages promise against every released
snapshot of it — contracts' JSON Schemas, and the api's OpenAPI document.

    python -m release.compat [--snapshots packages/contracts/schemas] [--documents packages/api/openapi]

A breaking change (see `release.schema_diff` and `release.openapi_diff`) against a snapshot of the same
major version fails, naming each change; against an older major version it is reported and allowed,
since the major bump announced it.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

import taskgate_api
import taskgate_contracts
from release import openapi_diff, schema_diff
from release.project import OPENAPI_SNAPSHOTS, ROOT, SNAPSHOTS, Package
from release.schema_diff import Break
from taskgate_api import openapi
from taskgate_api.version import __version__ as api_version
from taskgate_contracts import __version__ as contracts_version
from taskgate_contracts import schemas


@dataclass(frozen=True)
class Surface:
    """What a package promises its users, as it is now, and the snapshots of it its releases committed."""

    package: Package
    #: What is promised, as the report names it: "contract".
    title: str
    version: str
    current: Any
    snapshots: dict[str, Any]
    diff: Callable[[Any, Any], list[Break]]
    #: The command whose `--out` writes the snapshot of the current version, and the folder it goes in.
    writer: str
    folder: Path
    #: Where the current one comes from (the installed package's folder).
    origin: str

    @property
    def rewrite(self) -> str:
        return f"{self.writer} --out {self.folder}"


@dataclass(frozen=True)
class Verdict:
    snapshot: str
    breaks: list[Break]
    #: The current major version is higher, so the breaks were announced.
    allowed: bool

    @property
    def failed(self) -> bool:
        return bool(self.breaks) and not self.allowed


def released(folder: Path, read: Callable[[Path], Any]) -> dict[str, Any]:
    """Every snapshot under `folder` — a folder or a `.json` file named by its version — oldest first."""
    found = {}
    for entry in folder.iterdir() if folder.is_dir() else []:
        try:
            found[Version(entry.name.removesuffix(".json"))] = entry
        except InvalidVersion:
            continue
    return {str(version): read(found[version]) for version in sorted(found)}


def judge(surface: Surface) -> list[Verdict]:
    major = Version(surface.version).major
    return [
        Verdict(version, surface.diff(snapshot, surface.current), allowed=major > Version(version).major)
        for version, snapshot in surface.snapshots.items()
    ]


def report(surface: Surface, verdicts: list[Verdict]) -> str:
    name = f"{surface.package.distribution} {surface.version} ({surface.origin})"
    lines = [f"{name} against {len(verdicts)} released snapshot(s):"]
    for verdict in verdicts:
        if not verdict.breaks:
            lines.append(f"  {verdict.snapshot}: compatible")
            continue
        count = f"{len(verdict.breaks)} breaking change(s)"
        status = "allowed by the major version bump" if verdict.allowed else "NOT allowed: same major version"
        lines.append(f"  {verdict.snapshot}: {count}, {status}")
        lines += [f"    - {found}" for found in verdict.breaks]
    failed = [verdict.snapshot for verdict in verdicts if verdict.failed]
    if not failed:
        lines.append(f"OK: no released {surface.title} of this major version is broken.")
        return "\n".join(lines)
    next_major = f"{Version(surface.version).major + 1}.0.0"
    lines.append(
        f"FAILED: the {surface.title} breaks released version(s) {', '.join(failed)} without a major version "
        f"bump. Restore what the changes above removed, narrowed or widened, or release "
        f"{surface.package.distribution} as {next_major} ({surface.package.version_file} and CHANGELOG.md)."
    )
    if surface.version in failed:
        lines.append(
            f"  {surface.version} is the version being made: until it is released (tagged), its snapshot "
            f"may be written anew: {surface.rewrite}"
        )
    return "\n".join(lines)


def contracts_surface(folder: Path) -> Surface:
    return Surface(
        Package("contracts"),
        "contract",
        contracts_version,
        schemas.export(),
        released(folder, schemas.read),
        schema_diff.breaking_changes,
        "python -m taskgate_contracts.schemas",
        SNAPSHOTS,
        origin=str(Path(taskgate_contracts.__file__).parent),
    )


def api_surface(folder: Path) -> Surface:
    return Surface(
        Package("api"),
        "OpenAPI document",
        api_version,
        openapi.canonical_document(),
        released(folder, openapi.read),
        openapi_diff.breaking_changes,
        # With the locked FastAPI and pydantic, which the document's wording depends on.
        "uv run --frozen python -m taskgate_api.openapi",
        OPENAPI_SNAPSHOTS,
        origin=str(Path(taskgate_api.__file__).parent),
    )


def check(surface: Surface, folder: Path) -> bool:
    """Print the surface's report; whether it passed."""
    if not surface.snapshots:
        print(f"no released snapshot in {folder}: nothing to be compatible with", file=sys.stderr)
        return False
    verdicts = judge(surface)
    print(report(surface, verdicts))
    return not any(verdict.failed for verdict in verdicts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m release.compat",
        description="Check the installed contracts and api against every released snapshot of them.",
    )
    parser.add_argument("--snapshots", type=Path, default=ROOT / SNAPSHOTS, help="contracts' snapshots")
    parser.add_argument(
        "--documents", type=Path, default=ROOT / OPENAPI_SNAPSHOTS, help="the api's OpenAPI snapshots"
    )
    options = parser.parse_args(argv)
    passed = [
        check(contracts_surface(options.snapshots), options.snapshots),
        check(api_surface(options.documents), options.documents),
    ]
    return 0 if all(passed) else 1


if __name__ == "__main__":
    raise SystemExit(main())
