"""`nox -s release -- <package>`: everything a release of one package checks, short of tagging it.

    python -m release.dryrun <package> WORKDIR

Builds the sdist and the wheel, checks their metadata (`twine check --strict`, the version, and that
sibling packages are required through a bounded range, never pinned), that CHANGELOG.md has an entry for
the version, that the tag does not exist yet and, for contracts and the api, that the committed snapshot of
the version is what is being released (the contract's JSON Schemas, the api's canonical OpenAPI document);
then prints the tag it would create.
"""

import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

from release import gitrefs
from release.build import Built, build
from release.project import (
    OPENAPI_SNAPSHOTS,
    PACKAGES,
    ROOT,
    SNAPSHOTS,
    Package,
    ReleaseError,
    changelog_heading,
    parse_version,
    run,
)
from taskgate_api import openapi
from taskgate_contracts import schemas


@dataclass
class Plan:
    package: Package
    version: str
    #: What stops the release; empty when it can go ahead.
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return self.package.tag(self.version)


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(name).decode())


def sibling_problems(metadata: Message) -> list[str]:
    """Requirements of other taskgate packages that are not a bounded range (`>=0.1,<1`)."""
    problems = []
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if not requirement.name.startswith("taskgate-"):
            continue
        operators = {spec.operator for spec in requirement.specifier}
        if operators & {"==", "===", "~="} or not operators & {"<", "<="} or not operators & {">", ">="}:
            problems.append(f"{requirement}: siblings need a range such as >=0.1,<1, released on their own")
    return problems


def changelog_problems(package: Package, version: str, repo: Path) -> tuple[list[str], list[str]]:
    """(problems, notes) about the CHANGELOG entry of `version`."""
    path = repo / package.folder / "CHANGELOG.md"
    heading = changelog_heading(path.read_text(encoding="utf-8"), version) if path.is_file() else None
    if heading is None:
        return [f"{path.relative_to(repo)} has no `## {version}` entry"], []
    if "unreleased" in heading.lower():
        return [], [f"the entry reads {heading!r}: give it the release date before tagging"]
    return [], []


def contract_problems(version: str, repo: Path) -> list[str]:
    """For contracts: the committed snapshot of `version` must be the contract being released."""
    differences = schemas.snapshot_differences(repo / SNAPSHOTS, version)
    return _snapshot_problems(differences, f"python -m taskgate_contracts.schemas --out {SNAPSHOTS}")


def document_problems(version: str, repo: Path) -> list[str]:
    """For the api: the committed snapshot of `version` must be the OpenAPI document being released."""
    differences = openapi.snapshot_differences(repo / OPENAPI_SNAPSHOTS, version)
    command = f"uv run --frozen python -m taskgate_api.openapi --out {OPENAPI_SNAPSHOTS}"
    return _snapshot_problems(differences, command)


def _snapshot_problems(differences: list[str], command: str) -> list[str]:
    if differences:
        return [*differences, f"write the snapshot of the release: {command}, then commit it"]
    return []


def dry_run(package: Package, work: Path, repo: Path = ROOT) -> Plan:
    """What a release of `package` would tag, and what stops it; builds into `work`."""
    version_text = (repo / package.version_file).read_text(encoding="utf-8")
    plan = Plan(package, parse_version(version_text, str(package.version_file)))
    built = build(package, repo, work)
    print(f"    built {built.sdist.name} and {built.wheel.name}")
    plan.problems += _metadata_problems(built, plan.version)
    if gitrefs.tags(repo, plan.tag):
        plan.problems.append(f"tag {plan.tag} exists already: bump the version")
    problems, notes = changelog_problems(package, plan.version, repo)
    plan.problems += problems
    plan.notes += notes
    if package.name == "contracts":
        plan.problems += contract_problems(plan.version, repo)
    if package.name == "api":
        plan.problems += document_problems(plan.version, repo)
    if gitrefs.git(repo, "status", "--porcelain", "--", str(package.folder)).strip():
        plan.notes.append(f"{package.folder} has uncommitted changes: the tag marks the commit, not them")
    return plan


def _metadata_problems(built: Built, version: str) -> list[str]:
    try:
        run(["twine", "check", "--strict", built.sdist, built.wheel], capture=True)
    except ReleaseError as exc:
        return [f"twine check: {exc}"]
    metadata = wheel_metadata(built.wheel)
    problems = sibling_problems(metadata)
    if metadata["Version"] != version:
        problems.append(f"the wheel says version {metadata['Version']}, version.py says {version}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 2:
        print(f"usage: python -m release.dryrun <{'|'.join(PACKAGES)}> WORKDIR", file=sys.stderr)
        return 2
    try:
        plan = dry_run(Package(args[0]), Path(args[1]).resolve())
    except ReleaseError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    for note in plan.notes:
        print(f"    note: {note}")
    distribution = plan.package.distribution
    if plan.problems:
        print(f"FAILED: {distribution} {plan.version} cannot be released as it is:", file=sys.stderr)
        for problem in plan.problems:
            print(f"    - {problem}", file=sys.stderr)
        return 1
    print(f"    every check passed for {distribution} {plan.version}")
    print(f"OK: would create tag {plan.tag}:")
    print(f"    git tag -a {plan.tag} -m '{distribution} {plan.version}' && git push origin {plan.tag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
