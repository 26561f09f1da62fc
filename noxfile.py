"""Developer and CI sessions: `nox` alone runs lint, typecheck, tests, lowest, integration, chaos, cluster,
k8s, wheels and compat."""

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "lowest",
    "integration",
    "chaos",
    "cluster",
    "k8s",
    "wheels",
    "compat",
]

ROOT = Path(__file__).parent
#: The workspace's dependency groups (pyproject.toml): the test tools, locked with the packages in uv.lock.
GROUPS: dict[str, list[str]] = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
#: Every folder under packages/ that holds a package: a new one is tested, linted and typed at once.
PACKAGES = tuple(sorted(path.parent.name for path in (ROOT / "packages").glob("*/pyproject.toml")))
#: A team's own task type, added by entry points alone; the end-to-end tests drive it over HTTP.
EXAMPLE_PLUGIN = str(ROOT / "examples" / "wordcount")
TEST_TOOLS = tuple(GROUPS["test"])
#: What the Kubernetes manifests' checks install beside the packages, pinned: they decide what is valid.
K8S_REQUIREMENTS = str(ROOT / "deploy" / "k8s" / "tests" / "requirements.txt")


def package_dir(name: str) -> str:
    return str(ROOT / "packages" / name)


def optional_dependencies(name: str) -> dict[str, list[str]]:
    """The package's extras, as its pyproject.toml declares them."""
    pyproject = tomllib.loads((ROOT / "packages" / name / "pyproject.toml").read_text())
    extras: dict[str, list[str]] = pyproject["project"].get("optional-dependencies", {})
    return extras


def with_extras(name: str) -> str:
    """The package with every extra but `test`: what the task types it ships need (the worker's
    `thumbnail`), so the end-to-end stacks can run every type taskgate ships."""
    extras = [extra for extra in optional_dependencies(name) if extra != "test"]
    return package_dir(name) + (f"[{','.join(extras)}]" if extras else "")


def whole_stack() -> list[str]:
    """Every package with the extras its task types need, and the example plug-in."""
    return [with_extras(name) for name in PACKAGES] + [EXAMPLE_PLUGIN]


def declared_test_extra(name: str) -> list[str]:
    """The package's own `test` extra, if it declares one: the test-only dependencies it needs."""
    return optional_dependencies(name).get("test", [])


def testing_requirements(*names: str) -> list[str]:
    """The test tools, and the `test` extra of each named package, once each."""
    extras = [requirement for name in names for requirement in declared_test_extra(name)]
    return list(dict.fromkeys([*TEST_TOOLS, *extras]))


def require_programs(session: nox.Session, **packages: str) -> None:
    """Debian's packages for the programs named (`promtool="prometheus"`) that are missing, installed with
    apt-get as .ci/run does: the tests drive the real tools."""
    missing = sorted({package for program, package in packages.items() if shutil.which(program) is None})
    if missing:
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, external=True)


#: What the end-to-end tests drive beside the services: Prometheus (test_watching), Chromium
#: (test_docs_page) and Node.js with npm (test_typescript_client: it runs `npm ci` from
#: tests/typescript/package-lock.json), the Debian packages.
E2E_PROGRAMS = {"prometheus": "prometheus", "chromium": "chromium", "node": "nodejs", "npm": "npm"}
#: Python packages the end-to-end tests need beside the stack: clients of the services, the browser
#: driver, the OTLP receiver's messages, YAML for Prometheus's configuration.
E2E_TOOLS = (*GROUPS["stack"], *GROUPS["e2e"])


def install_locked(session: nox.Session, packages: list[str], *groups: str) -> None:
    """The dependencies of the whole stack and of the dependency groups named, at the versions uv.lock pins,
    hashes checked: what the images ship is what the end-to-end sessions test. Then `packages` themselves
    (the example plug-in needs nothing the lock lacks), without resolving anything again."""
    session.install("uv")
    requirements = Path(session.create_tmp()) / "locked.txt"
    options = [f"--group={group}" for group in groups]
    # --frozen: a stale lock is `nox -s lint`'s to report; here it is used as committed.
    export = ["uv", "export", "--frozen", "--no-emit-workspace", "--no-default-groups", *options]
    session.run(*export, "--quiet", "--output-file", str(requirements))
    session.install("--require-hashes", "-r", str(requirements))
    session.install("--no-deps", *packages)


def install_all_editable(session: nox.Session) -> None:
    """Every package editable (and the example plug-in), with every package's test dependencies."""
    editable = [arg for requirement in whole_stack() for arg in ("-e", requirement)]
    session.install(*editable, *testing_requirements(*PACKAGES))


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format checks, the package boundaries with import-linter, and uv.lock up to date with
    the pyproject files."""
    session.install("ruff", "import-linter", "uv", *[package_dir(name) for name in PACKAGES])
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
    # Fails when a pyproject.toml changed a dependency without `uv lock`: the images and the end-to-end
    # sessions install from the lock.
    session.run("uv", "lock", "--check")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every package's sources and tests, the root tests and this file."""
    install_all_editable(session)
    session.install("mypy", "nox", *E2E_TOOLS, "types-PyYAML", "types-jsonschema")
    session.install("-r", K8S_REQUIREMENTS)
    sources = [str(Path("packages", name, "src")) for name in PACKAGES]
    session.run(
        "mypy", *sources, str(Path(EXAMPLE_PLUGIN, "src")), "testkit", "tests", "release", "noxfile.py"
    )
    # Each tests folder is checked on its own: they share module names (conftest, test_config).
    folders = [*(Path("packages", name, "tests") for name in PACKAGES), Path(EXAMPLE_PLUGIN, "tests")]
    for folder in [*folders, Path("deploy", "k8s", "tests")]:
        session.run("mypy", str(folder))


@nox.session
@nox.parametrize("package", PACKAGES, ids=list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """One package's own tests in a venv that holds only it, contracts and its test tools."""
    requirements = [package_dir(name) for name in dict.fromkeys(("contracts", package))]
    session.install(*requirements, *testing_requirements(package))
    if package == "ops":  # the alert rules are checked and unit-tested with promtool
        require_programs(session, promtool="prometheus")
    # Exit code 5 (nothing collected) stays a failure: an empty suite must never pass.
    session.run("pytest", str(Path("packages", package, "tests")), *session.posargs)
    if package == "ops":
        compose_config(session)


def compose_config(session: nox.Session) -> None:
    """`docker compose config` over docker-compose.yml with .env.example's values, where the docker CLI has
    its Compose plugin (it needs no engine); elsewhere the static checks of the ops tests stand alone."""
    docker = shutil.which("docker")
    plugin = (
        docker is not None
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    )
    if not plugin:
        session.log("docker compose is not installed here: docker-compose.yml is checked statically only")
        return
    options = ["--env-file", ".env.example", "--profile", "monitoring"]
    session.run("docker", "compose", *options, "config", "--quiet", external=True)


@nox.session
@nox.parametrize("package", PACKAGES, ids=list(PACKAGES))
def lowest(session: nox.Session, package: str) -> None:
    """One package's own tests with every dependency it declares at the lowest version it allows."""
    # With its task types' extras, so their dependencies (the worker's Pillow) are direct ones too.
    requirements = [with_extras(name) for name in dict.fromkeys(("contracts", package))]
    # lowest-direct: what the packages (and the test tools) name directly is installed at its lower
    # bound; what those need in turn is resolved as usual, as a user's install would be.
    session.install("--resolution=lowest-direct", *requirements, *testing_requirements(package))
    session.run("pytest", str(Path("packages", package, "tests")), *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """The real worker and api as processes on this machine's RabbitMQ and Redis, over HTTP."""
    require_programs(session, **E2E_PROGRAMS)
    install_locked(session, whole_stack(), "test", "stack", "e2e")
    # The example plug-in's own tests first: a team's suite, run against its installed package.
    session.run("pytest", str(Path(EXAMPLE_PLUGIN, "tests")))
    session.run("pytest", "tests", "--ignore=tests/chaos", *session.posargs)


@nox.session
def chaos(session: nox.Session) -> None:
    """Faults on the real processes: kill -9, RabbitMQ and Redis restarts, a full queue, SIGTERM, poison."""
    install_locked(session, [with_extras(name) for name in PACKAGES], "test", "stack")
    session.run("pytest", "tests/chaos", f"--ignore={CLUSTER_SCENARIOS}", *session.posargs)


#: The scenarios past one box, in a session of their own: they boot a RabbitMQ cluster, run HAProxy and
#: make a network namespace (which needs root).
CLUSTER_SCENARIOS = "tests/chaos/cluster"


@nox.session
def cluster(session: nox.Session) -> None:
    """Past one box: a three-node RabbitMQ cluster losing its queue's leader, two apis behind HAProxy, a
    worker whose link is cut in a network namespace."""
    if shutil.which("haproxy") is None:
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "haproxy", external=True)
    install_locked(session, [with_extras(name) for name in PACKAGES], "test", "stack")
    session.run("pytest", CLUSTER_SCENARIOS, *session.posargs)


@nox.session
def k8s(session: nox.Session) -> None:
    """deploy/k8s rendered by kustomize, checked offline against the pinned Kubernetes and operator schemas
    and against the settings and ports of the packages."""
    if shutil.which("kubectl") is None and shutil.which("kustomize") is None:
        session.error("kustomize renders deploy/k8s: install kubectl (kustomize is built in) or kustomize")
    services = [package_dir(name) for name in ("contracts", "api", "worker", "ops")]
    session.install(*services, *TEST_TOOLS, "-r", K8S_REQUIREMENTS)
    session.run("pytest", str(Path("deploy", "k8s", "tests")), *session.posargs)


@nox.session(default=False)
def screenshots(session: nox.Session) -> None:
    """Flower's task list (a cancelled task REVOKED), RabbitMQ's queue page and /docs offline, on a live
    native stack, into docs/images/."""
    require_programs(session, chromium="chromium")
    chromium = Path("/usr/bin/chromium")
    session.install(*whole_stack(), "playwright", "httpx", "redis")
    script = "packages/ops/scripts/screenshots.py"
    session.run("python", script, "--chromium", str(chromium), "--out", "docs/images")


def require_services(session: nox.Session) -> None:
    """Go on only if this machine's RabbitMQ and Redis answer: otherwise skip, or under CI=true fail."""
    problems = session.run("python", "-m", "testkit.infrastructure", silent=True, success_codes=[0, 1])
    if isinstance(problems, str) and problems.strip():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            session.error(problems.strip())
        session.skip(problems.strip())


@nox.session
def wheels(session: nox.Session) -> None:
    """Build the four wheels, check what they hold, and run the seed scenario on them without the source."""
    session.install("uv", "httpx", "redis")
    require_services(session)
    session.run("python", "-m", "release.wheels", session.create_tmp())


@nox.session
def compat(session: nox.Session) -> None:
    """The contract and the api's OpenAPI document against every released snapshot; then old and new api and
    worker together, end to end."""
    # From the lock: the OpenAPI document is compared as the shipped FastAPI and pydantic write it.
    install_locked(session, [package_dir("contracts"), package_dir("api")], "test", "stack")
    session.install("packaging")
    session.run("python", "-m", "release.compat")
    session.run("pytest", "release/tests")
    require_services(session)
    session.run("python", "-m", "release.crossversion", session.create_tmp())


@nox.session(default=False)
def release(session: nox.Session) -> None:
    """Dry run of one package's release (`nox -s release -- api`): build, check, print the tag."""
    if len(session.posargs) != 1:
        session.error(f"name the package: nox -s release -- <{'|'.join(PACKAGES)}>")
    # contracts and the api, from the lock: their snapshots are checked against the contract and the document
    # they make, as the shipped versions of pydantic and FastAPI write them.
    install_locked(session, [package_dir("contracts"), package_dir("api")])
    session.install("twine", "packaging")
    session.run("python", "-m", "release.dryrun", session.posargs[0], session.create_tmp())


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """The api and worker under load against a raw-Celery baseline: table, bench/results/, docs/images/."""
    if shutil.which("wrk") is None:
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "wrk", external=True)
    # The worker with its extras: the two-task-types scenario runs `thumbnail` jobs beside `process` ones.
    services = [package_dir("contracts"), package_dir("api"), with_extras("worker")]
    session.install(*services, "-r", "bench/requirements.txt")
    # The harness's own checks first, offline: a run whose verdicts are wrong is worse than none.
    session.run("pytest", "bench/tests", "-q", "-p", "no:cacheprovider")
    session.run("python", "-m", "bench", *session.posargs)
