"""Fixtures of the ops tests: this machine's RabbitMQ management API, a vhost of each test's own, and
task-type plug-ins installed for one test."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from taskgate_contracts.registry import TASKS_GROUP
from taskgate_ops.management import ManagementApi, ManagementError, segment

MANAGEMENT_URL = "http://127.0.0.1:15672"
ADMIN = ("guest", "guest")

_PLUGIN_MODULE = """
from pydantic import BaseModel
from taskgate_contracts import TaskSpec

class Nothing(BaseModel):
    pass

SPECS = [
    TaskSpec(name=name, args=Nothing, result=Nothing, description=name, queue="acme", soft_time_limit=7200)
    for name in ("acme.report", "acme.export")
]
"""


@pytest.fixture
def management() -> Iterator[ManagementApi]:
    """The local broker's management API as its administrator; without one, skip (fail under CI)."""
    with ManagementApi(MANAGEMENT_URL, *ADMIN) as api:
        try:
            api.get("/overview")
        except ManagementError as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI needs RabbitMQ with its management API: {exc}")
            pytest.skip(str(exc))
        yield api


@pytest.fixture
def vhost(management: ManagementApi) -> Iterator[str]:
    """A vhost name no one else uses; deleted, with all it holds, after the test."""
    name = f"taskgate-ops-test-{uuid4().hex[:12]}"
    yield name
    if management.get(f"/vhosts/{segment(name)}") is not None:
        management.delete(f"/vhosts/{segment(name)}")


def _install(site: Path, monkeypatch: pytest.MonkeyPatch, entry_points: str, modules: dict[str, str]) -> None:
    """A distribution on sys.path for this test only, found by `discover()` like any installed one."""
    info = site / "taskgate_test_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: taskgate-test-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{TASKS_GROUP}]\n{entry_points}\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(site))


@pytest.fixture
def plugin_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A plug-in's task types installed beside the shipped ones, for this test only: `acme.export` and
    `acme.report`, which share the queue `acme` and may run for two hours (soft time limit 7200 s)."""
    _install(tmp_path / "site", monkeypatch, "acme = acme_tasks:SPECS", {"acme_tasks": _PLUGIN_MODULE})
    yield
    # Imported from this test's folder: the next test must import it afresh, or not at all.
    sys.modules.pop("acme_tasks", None)


@pytest.fixture
def clashing_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plug-in that declares the shipped task types a second time, so discovery refuses them."""
    _install(tmp_path / "site", monkeypatch, "again = taskgate_contracts.builtin:SPECS", {})
