"""What the release tooling asks git: release tags, the commit that recorded a file, a tree at a commit."""

import io
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from release.project import ReleaseError, run


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo, capture=True)


def tags(repo: Path, pattern: str) -> list[str]:
    """The tags matching a glob such as `api-v*`."""
    return git(repo, "tag", "--list", pattern).split()


def commit_of(repo: Path, ref: str) -> str:
    """The full id of the commit `ref` (a tag, a branch, an abbreviated id) points at."""
    return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()


def file_at(repo: Path, commit: str, path: Path) -> str:
    """The text of `path` as committed in `commit`."""
    return git(repo, "show", f"{commit}:{PurePosixPath(path)}")


def entries(repo: Path, commit: str, folder: Path) -> list[str]:
    """The names directly inside `folder` as committed in `commit`; empty when it has no such folder."""
    listing = git(repo, "ls-tree", "--name-only", commit, f"{PurePosixPath(folder)}/")
    return [PurePosixPath(line).name for line in listing.splitlines()]


def commit_that_added(repo: Path, path: Path) -> str | None:
    """The latest commit that added files under `path`, or None when history holds none (or is shallow)."""
    found = git(repo, "log", "--diff-filter=A", "--format=%H", "-1", "--", str(PurePosixPath(path))).strip()
    return found or None


def tracked_files(repo: Path, folder: Path) -> list[PurePosixPath]:
    """The files git tracks under `folder`, relative to it."""
    listing = git(repo, "ls-files", "-z", "--", str(PurePosixPath(folder)))
    return [PurePosixPath(name).relative_to(PurePosixPath(folder)) for name in listing.split("\0") if name]


def export(repo: Path, commit: str, paths: Sequence[Path], destination: Path) -> None:
    """Write `paths` as committed in `commit` under `destination`, nothing of the working tree."""
    try:
        archive = subprocess.run(  # noqa: S603 - fixed git command, arguments built here
            ["git", "archive", "--format=tar", commit, *[str(PurePosixPath(path)) for path in paths]],  # noqa: S607
            cwd=repo,
            check=True,
            capture_output=True,
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise ReleaseError(
            f"git archive {commit} failed: {exc.stderr.decode(errors='replace').strip()}"
        ) from None
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
