"""Developer and CI sessions: `nox` alone runs lint, typecheck, tests(<package>) and integration."""

import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "integration"]

ROOT = Path(__file__).parent
PACKAGES = ("contracts", "api", "worker", "ops")
TEST_TOOLS = ("pytest>=8", "pytest-asyncio>=0.24")


def package_dir(name: str) -> str:
    return str(ROOT / "packages" / name)


def declared_test_extra(name: str) -> list[str]:
    """The package's own `test` extra, if it declares one: the test-only dependencies it needs."""
    pyproject = tomllib.loads((ROOT / "packages" / name / "pyproject.toml").read_text())
    extra: list[str] = pyproject["project"].get("optional-dependencies", {}).get("test", [])
    return extra


def testing_requirements(*names: str) -> list[str]:
    """The test tools, and the `test` extra of each named package, once each."""
    extras = [requirement for name in names for requirement in declared_test_extra(name)]
    return list(dict.fromkeys([*TEST_TOOLS, *extras]))


def install_all_editable(session: nox.Session) -> None:
    """Every package editable, with every package's test dependencies."""
    editable = [arg for name in PACKAGES for arg in ("-e", package_dir(name))]
    session.install(*editable, *testing_requirements(*PACKAGES))


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format checks, and the package boundaries with import-linter."""
    session.install("ruff", "import-linter", *[package_dir(name) for name in PACKAGES])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every package's sources and tests, the root tests and this file."""
    install_all_editable(session)
    session.install("mypy", "nox", "httpx", "redis", "packaging")
    sources = [str(Path("packages", name, "src")) for name in PACKAGES]
    session.run("mypy", *sources, "tests", "noxfile.py")
    # Each tests folder is checked on its own: they share module names (conftest, test_config).
    for name in PACKAGES:
        session.run("mypy", str(Path("packages", name, "tests")))


@nox.session
@nox.parametrize("package", PACKAGES, ids=list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """One package's own tests in a venv that holds only it, contracts and its test tools."""
    requirements = [package_dir(name) for name in dict.fromkeys(("contracts", package))]
    session.install(*requirements, *testing_requirements(package))
    # Exit code 5 (nothing collected) stays a failure: an empty suite must never pass.
    session.run("pytest", str(Path("packages", package, "tests")), *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """The real worker and api as processes on this machine's RabbitMQ and Redis, over HTTP."""
    session.install(
        *[package_dir(name) for name in PACKAGES], *TEST_TOOLS, "httpx", "redis", "packaging", "schemathesis"
    )
    session.run("pytest", "tests", *session.posargs)


@nox.session(default=False)
def screenshots(session: nox.Session) -> None:
    """Flower's task list and RabbitMQ's queue page on a live native stack, into docs/images/."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        session.error("Debian's chromium is needed: apt-get install -y chromium")
    session.install(*[package_dir(name) for name in PACKAGES], "playwright", "httpx", "redis")
    script = "packages/ops/scripts/screenshots.py"
    session.run("python", script, "--chromium", str(chromium), "--out", "docs/images")
