"""The packages of the monorepo as the release tooling sees them: folder, version, changelog and tag."""

import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Every folder under packages/ that holds a package.
PACKAGES = tuple(sorted(path.parent.name for path in (ROOT / "packages").glob("*/pyproject.toml")))
#: Where contracts keeps one JSON Schema snapshot per released version.
SNAPSHOTS = Path("packages", "contracts", "schemas")
#: Where the api keeps its OpenAPI document, one `<version>.json` per released version.
OPENAPI_SNAPSHOTS = Path("packages", "api", "openapi")

_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


class ReleaseError(Exception):
    """Something stops a release step; the message says what and what to do about it."""


@dataclass(frozen=True)
class Package:
    name: str

    def __post_init__(self) -> None:
        if self.name not in PACKAGES:
            raise ReleaseError(f"unknown package {self.name!r}: one of {', '.join(PACKAGES)}")

    @property
    def distribution(self) -> str:
        return f"taskgate-{self.name}"

    @property
    def import_name(self) -> str:
        return f"taskgate_{self.name}"

    @property
    def folder(self) -> Path:
        """The package's folder, relative to the repository root."""
        return Path("packages", self.name)

    @property
    def task_type_extras(self) -> list[str]:
        """The extras the task types it ships need (all but `test`), as its pyproject.toml declares them."""
        pyproject = tomllib.loads((ROOT / self.folder / "pyproject.toml").read_text(encoding="utf-8"))
        extras = pyproject["project"].get("optional-dependencies", {})
        return [extra for extra in extras if extra != "test"]

    @property
    def version_file(self) -> Path:
        return self.folder / "src" / self.import_name / "version.py"

    def tag(self, version: str) -> str:
        return f"{self.name}-v{version}"


def parse_version(text: str, source: str) -> str:
    """The `__version__` a version.py assigns; `source` names the file in the error."""
    found = _VERSION.search(text)
    if found is None:
        raise ReleaseError(f"{source} assigns no __version__")
    return found.group(1)


def changelog_heading(text: str, version: str) -> str | None:
    """The CHANGELOG heading of `version` (`## 0.2.0 — 2026-11-30`), or None when it has none."""
    heading = re.compile(rf"^##\s+v?{re.escape(version)}(?![\w.+-]).*$", re.MULTILINE)
    found = heading.search(text)
    return None if found is None else found.group(0).strip()


def run(
    command: Sequence[str | Path],
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    capture: bool = False,
) -> str:
    """Run a command of ours; its output when `capture`. A failure is a ReleaseError naming the command."""
    argv = [str(part) for part in command]
    try:
        done = subprocess.run(  # noqa: S603 - every command is built by this tooling, never from input
            argv, cwd=cwd, env=env, check=True, text=True, capture_output=capture
        )
    except FileNotFoundError as exc:
        raise ReleaseError(f"{argv[0]} is not installed: {exc}") from None
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip()
        raise ReleaseError(
            f"`{' '.join(argv)}` failed with exit code {exc.returncode}\n{detail}".rstrip()
        ) from None
    return done.stdout if capture else ""


@contextmanager
def step(title: str) -> Iterator[None]:
    """Announce a step of a session and, once it is done, how long it took."""
    started = time.monotonic()
    print(f"==> {title}", flush=True)
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def workdir_main(argv: Sequence[str] | None, program: str, body: Callable[[Path], str]) -> int:
    """The command line of a session step that works in one folder: `python -m <program> WORKDIR`.

    `body` does the work and returns the line that says it passed; a ReleaseError fails it with its message.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 1:
        print(f"usage: python -m {program} WORKDIR", file=sys.stderr)
        return 2
    try:
        print(f"OK: {body(Path(args[0]).resolve())}")
    except ReleaseError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0
