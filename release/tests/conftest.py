"""Throwaway git repositories and wheel files for the release tooling's tests."""

import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

Commit = Callable[[dict[str, str], str], str]
MakeWheel = Callable[..., Path]


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=taskgate", "-c", "user.email=release@taskgate.invalid"]
    done = subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    return path


@pytest.fixture
def commit(repo: Path) -> Commit:
    """Write `files` (path to text) into the repository and commit them; the new commit's id."""

    def commit(files: dict[str, str], message: str) -> str:
        for name, text in files.items():
            path = repo / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "-m", message)
        return git(repo, "rev-parse", "HEAD")

    return commit


@pytest.fixture
def make_wheel(tmp_path: Path) -> MakeWheel:
    """A wheel file holding `files` (archive path to text) and METADATA lines `requires`."""

    def make_wheel(
        name: str = "taskgate_api", files: dict[str, str] | None = None, requires: tuple[str, ...] = ()
    ) -> Path:
        path = tmp_path / f"{name}-0.1.0-py3-none-any.whl"
        metadata = "\n".join(
            ["Metadata-Version: 2.3", f"Name: {name.replace('_', '-')}", "Version: 0.1.0"]
            + [f"Requires-Dist: {requirement}" for requirement in requires]
        )
        with zipfile.ZipFile(path, "w") as archive:
            for member, text in {
                **(files or {}),
                f"{name}-0.1.0.dist-info/METADATA": metadata + "\n",
            }.items():
                archive.writestr(member, text)
        return path

    return make_wheel
