"""The schema half of `nox -s compat`: the installed contracts against every released snapshot.

    python -m release.compat [--snapshots packages/contracts/schemas]

A breaking change (see `release.schema_diff`) against a snapshot of the same major version fails, naming
each change; against an older major version it is reported and allowed, since the major bump announced it.
"""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

import taskgate_contracts
from release.project import ROOT, SNAPSHOTS
from release.schema_diff import Break, Contract, breaking_changes
from taskgate_contracts import __version__
from taskgate_contracts.schemas import export, read


@dataclass(frozen=True)
class Verdict:
    snapshot: str
    breaks: list[Break]
    #: The current major version is higher, so the breaks were announced.
    allowed: bool

    @property
    def failed(self) -> bool:
        return bool(self.breaks) and not self.allowed


def released_snapshots(folder: Path) -> dict[str, Contract]:
    """Every snapshot under `folder`, by version, oldest first."""
    found = {}
    for entry in folder.iterdir():
        try:
            found[Version(entry.name)] = entry
        except InvalidVersion:
            continue
    return {str(version): read(found[version]) for version in sorted(found)}


def judge(current_version: str, current: Contract, snapshots: dict[str, Contract]) -> list[Verdict]:
    major = Version(current_version).major
    return [
        Verdict(version, breaking_changes(snapshot, current), allowed=major > Version(version).major)
        for version, snapshot in snapshots.items()
    ]


def report(current_version: str, verdicts: list[Verdict], origin: str) -> str:
    lines = [f"taskgate-contracts {current_version} ({origin}) against {len(verdicts)} released snapshot(s):"]
    for verdict in verdicts:
        if not verdict.breaks:
            lines.append(f"  {verdict.snapshot}: compatible")
            continue
        count = f"{len(verdict.breaks)} breaking change(s)"
        status = "allowed by the major version bump" if verdict.allowed else "NOT allowed: same major version"
        lines.append(f"  {verdict.snapshot}: {count}, {status}")
        lines += [f"    - {found}" for found in verdict.breaks]
    failed = [verdict.snapshot for verdict in verdicts if verdict.failed]
    if failed:
        next_major = f"{Version(current_version).major + 1}.0.0"
        lines.append(
            f"FAILED: the contract breaks released version(s) {', '.join(failed)} without a major version "
            f"bump. Restore what the changes above removed or narrowed, or release the contract as "
            f"{next_major} (packages/contracts/src/taskgate_contracts/version.py and CHANGELOG.md)."
        )
    else:
        lines.append("OK: no released contract of this major version is broken.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m release.compat",
        description="Check the installed contracts against every released one.",
    )
    parser.add_argument("--snapshots", type=Path, default=ROOT / SNAPSHOTS, help="the snapshots folder")
    options = parser.parse_args(argv)
    snapshots = released_snapshots(options.snapshots)
    if not snapshots:
        print(f"no released snapshot in {options.snapshots}: nothing to be compatible with", file=sys.stderr)
        return 1
    verdicts = judge(__version__, export(), snapshots)
    print(report(__version__, verdicts, origin=str(Path(taskgate_contracts.__file__).parent)))
    return 1 if any(verdict.failed for verdict in verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
