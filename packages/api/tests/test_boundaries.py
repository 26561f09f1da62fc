"""The api's boundaries: it depends on contracts only (never the worker or ops), and its engine — submitting,
waiting, records — knows nothing of HTTP or of how the api is served."""

import ast
import re
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import taskgate_api
from taskgate_contracts import __version__ as contracts_version

FORBIDDEN = {"taskgate_worker", "taskgate_ops"}
PACKAGE = Path(taskgate_api.__file__).parent
#: What the engine must not reach, directly or through another module of the api: the web framework and
#: the server, and the api's own layers above it (as the import-linter contract in pyproject.toml says).
ENGINE_FORBIDDEN = ("fastapi", "starlette", "sse_starlette", "uvicorn")
ENGINE_FORBIDDEN_LAYERS = ("taskgate_api.http", "taskgate_api.server", "taskgate_api.app")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved, with `from a import b` counted as both `a`
    and `a.b` (b may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            modules.add(base)
            modules |= {f"{base}.{alias.name}" for alias in node.names}
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


def api_sources() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def reached_from(start: list[str], sources: dict[str, Path]) -> set[str]:
    """The api's modules `start` imports, directly or through each other."""
    reached: set[str] = set()
    pending = list(start)
    while pending:
        module = pending.pop()
        if module in reached or module not in sources:
            continue
        reached.add(module)
        pending += imported_modules(sources[module])
    return reached


def test_no_module_imports_a_sibling() -> None:
    sources = list(PACKAGE.rglob("*.py"))
    assert len(sources) > 10
    for source in sources:
        assert not imported_roots(source) & FORBIDDEN, source


def test_the_engine_imports_no_web_framework_and_no_layer_above_it() -> None:
    sources = api_sources()
    engine = [name for name in sources if name.startswith("taskgate_api.engine.")]
    assert len(engine) >= 9, engine  # the walk found the engine's modules, not an empty folder
    # Through the api's own modules too: the engine may use config and metrics, and they must stay clean.
    for module in sorted(reached_from(engine, sources)):
        assert not module.startswith(ENGINE_FORBIDDEN_LAYERS), f"the engine reaches {module}"
        for imported in imported_modules(sources[module]):
            assert not imported.startswith(ENGINE_FORBIDDEN_LAYERS), f"{module} imports {imported}"
            assert imported.split(".")[0] not in ENGINE_FORBIDDEN, f"{module} imports {imported}"


def test_the_walk_sees_what_the_http_layer_imports() -> None:
    # The check above passes trivially if the walk misreads imports: it must see the http layer's.
    sources = api_sources()
    assert "fastapi" in {
        name.split(".")[0] for name in imported_modules(sources["taskgate_api.http.running"])
    }
    assert "taskgate_api.engine.tasktypes" in imported_modules(sources["taskgate_api.http.running"])


def test_loading_the_whole_engine_loads_no_web_framework() -> None:
    # A fresh interpreter: this one has loaded FastAPI for the other tests. It also catches what the
    # engine's third-party dependencies would pull in, which the walk above does not follow.
    probe = (
        "import importlib, pkgutil, sys\n"
        "import taskgate_api.engine as engine\n"
        "for module in pkgutil.iter_modules(engine.__path__):\n"
        "    importlib.import_module(f'taskgate_api.engine.{module.name}')\n"
        f"print(sorted(name for name in sys.modules if name.split('.')[0] in {ENGINE_FORBIDDEN!r}"
        f" or name.startswith({ENGINE_FORBIDDEN_LAYERS!r})))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_requirements_name_contracts_of_its_own_major_version_and_no_sibling() -> None:
    requirements = requires("taskgate-api") or []
    names = [requirement.split(";")[0].strip() for requirement in requirements]
    [contracts] = [name for name in names if name.startswith("taskgate-contracts")]
    # A range, not a pin: any contracts release of the installed one's major version, and no other.
    bounds = {}
    for part in contracts.removeprefix("taskgate-contracts").split(","):
        bound = re.fullmatch(r"(>=|<)(\d+(?:\.\d+)*)", part.strip())
        assert bound is not None, contracts
        bounds[bound[1]] = bound[2]
    major = int(contracts_version.split(".")[0])
    assert set(bounds) == {">=", "<"}, contracts
    assert int(bounds[">="].split(".")[0]) == major, contracts
    assert bounds["<"] == str(major + 1), contracts
    assert not any(name.startswith(("taskgate-worker", "taskgate-ops")) for name in names)
