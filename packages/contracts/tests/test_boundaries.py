"""contracts is the small interface package: pydantic only, no framework."""

import ast
from importlib.metadata import requires
from pathlib import Path

import taskgate_contracts

FRAMEWORKS = {
    "celery",
    "kombu",
    "fastapi",
    "starlette",
    "redis",
    "taskgate_api",
    "taskgate_worker",
    "taskgate_ops",
    "taskgate_client",
    "httpx",
    "rich",
}


def test_imports_no_framework() -> None:
    package = Path(taskgate_contracts.__file__).parent
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            assert not {name.split(".")[0] for name in names} & FRAMEWORKS, source


def test_requires_pydantic_only() -> None:
    required = [r for r in requires("taskgate-contracts") or [] if "extra ==" not in r]
    assert [r.split(">")[0].split("<")[0].split("=")[0].strip() for r in required] == ["pydantic"]


def test_is_typed() -> None:
    assert (Path(taskgate_contracts.__file__).parent / "py.typed").exists()
