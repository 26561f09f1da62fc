"""The last release of a package: what the cross-version test builds the "old" side from.

A release is tagged `<package>-v<version>` (`api-v0.3.0`); the newest such tag, by version, is the last
release. Until a package has its first tag, its last release is the tree of the commit that recorded the
newest committed contract snapshot (`packages/contracts/schemas/<version>/`): a snapshot is committed when
a contract is released, so that commit holds the api and the worker that shipped with it. Which of the two
was used is always said, so a run never passes off the working tree as a release.
"""

from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from release import gitrefs
from release.project import SNAPSHOTS, Package, ReleaseError, parse_version


@dataclass(frozen=True)
class Release:
    package: Package
    version: str
    commit: str
    #: How it was found, for the log: the tag, or the snapshot commit standing in for one.
    origin: str


def _parsed(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def newest(versions: list[str]) -> str | None:
    """The highest of `versions` by version order (0.10.0 after 0.9.0); unparsable ones are ignored."""
    parsed = [(version, _parsed(version)) for version in versions]
    ranked = sorted((found, text) for text, found in parsed if found is not None)
    return ranked[-1][1] if ranked else None


def snapshot_commit(repo: Path) -> tuple[str, str]:
    """The newest committed contract snapshot's version, and the commit that recorded it."""
    version = newest(gitrefs.entries(repo, "HEAD", SNAPSHOTS))
    if version is None:
        raise ReleaseError(f"no release tag and no committed contract snapshot under {SNAPSHOTS}")
    commit = gitrefs.commit_that_added(repo, SNAPSHOTS / version)
    if commit is None:
        raise ReleaseError(
            f"the commit that recorded {SNAPSHOTS / version} is not in this clone's history; "
            "fetch the full history (git fetch --unshallow)"
        )
    return version, commit


def last_release(package: Package, repo: Path) -> Release:
    prefix = package.tag("")
    tagged = newest([tag.removeprefix(prefix) for tag in gitrefs.tags(repo, f"{prefix}*")])
    if tagged is not None:
        tag = package.tag(tagged)
        return Release(package, tagged, gitrefs.commit_of(repo, tag), f"tag {tag}")
    contract, commit = snapshot_commit(repo)
    version_file = gitrefs.file_at(repo, commit, package.version_file)
    version = parse_version(version_file, f"{package.version_file} at {commit[:12]}")
    origin = f"commit {commit[:12]}, which recorded contract snapshot {contract} (no {prefix}* tag yet)"
    return Release(package, version, commit, origin)
