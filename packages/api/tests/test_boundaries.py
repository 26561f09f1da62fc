"""The api depends on contracts only: it never imports the worker or ops, and does not require them."""

import ast
from importlib.metadata import requires
from pathlib import Path

import taskgate_api

FORBIDDEN = {"taskgate_worker", "taskgate_ops"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_imports_a_sibling() -> None:
    package = Path(taskgate_api.__file__).parent
    sources = list(package.rglob("*.py"))
    assert len(sources) > 10
    for source in sources:
        assert not imported_roots(source) & FORBIDDEN, source


def test_requirements_name_contracts_with_a_range_and_no_sibling() -> None:
    requirements = requires("taskgate-api") or []
    names = [requirement.split(";")[0].strip() for requirement in requirements]
    contracts = [name for name in names if name.startswith("taskgate-contracts")]
    assert contracts == ["taskgate-contracts<1,>=0.1"] or contracts == ["taskgate-contracts>=0.1,<1"]
    assert not any(name.startswith(("taskgate-worker", "taskgate-ops")) for name in names)
