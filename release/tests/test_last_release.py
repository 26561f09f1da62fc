"""How the last release of a package is found: its newest tag, else the commit of the newest snapshot."""

from pathlib import Path

import pytest

from release.last_release import last_release, newest
from release.project import Package, ReleaseError
from release.tests.conftest import Commit, git

API = Package("api")


def version_file(version: str) -> dict[str, str]:
    return {"packages/api/src/taskgate_api/version.py": f'__version__ = "{version}"\n'}


def snapshot(version: str) -> dict[str, str]:
    return {f"packages/contracts/schemas/{version}/tasks.json": "{}\n"}


def test_versions_are_ordered_as_versions_not_as_text() -> None:
    assert newest(["0.9.0", "0.10.0", "0.2.1", "not-a-version"]) == "0.10.0"
    assert newest(["nonsense"]) is None


def test_without_a_tag_the_commit_that_recorded_the_newest_snapshot_is_the_release(
    repo: Path, commit: Commit
) -> None:
    commit(version_file("0.1.0"), "first")
    recorded = commit(snapshot("0.1.0"), "release the 0.1.0 contract")
    commit(version_file("0.2.0"), "work after the release")

    release = last_release(API, repo)

    assert (release.commit, release.version) == (recorded, "0.1.0")
    assert (
        release.origin
        == f"commit {recorded[:12]}, which recorded contract snapshot 0.1.0 (no api-v* tag yet)"
    )


def test_the_newest_snapshot_by_version_wins(repo: Path, commit: Commit) -> None:
    recorded = commit({**version_file("0.1.0"), **snapshot("0.10.0")}, "0.10.0")
    commit({**version_file("0.9.0"), **snapshot("0.9.0")}, "an older contract recorded later")

    release = last_release(API, repo)

    assert (release.commit, release.version) == (recorded, "0.1.0")
    assert release.origin.endswith("which recorded contract snapshot 0.10.0 (no api-v* tag yet)")


def test_the_newest_tag_of_the_package_wins_over_snapshots(repo: Path, commit: Commit) -> None:
    commit({**version_file("0.2.0"), **snapshot("0.1.0")}, "first")
    tagged = commit(version_file("0.10.0"), "0.10.0")
    git(repo, "tag", "api-v0.10.0")
    git(repo, "tag", "api-v0.9.0", "HEAD~1")
    commit(version_file("1.0.0"), "later")
    git(repo, "tag", "worker-v5.0.0")

    release = last_release(API, repo)

    assert (release.commit, release.version, release.origin) == (tagged, "0.10.0", "tag api-v0.10.0")


def test_neither_tag_nor_snapshot_is_an_error_that_says_so(repo: Path, commit: Commit) -> None:
    commit(version_file("0.1.0"), "first")

    with pytest.raises(ReleaseError, match="no release tag and no committed contract snapshot"):
        last_release(API, repo)
