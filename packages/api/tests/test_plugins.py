"""A task type is a plug-in: a distribution declaring it under the `taskgate.tasks` entry point is served
by the api made with no registry given, as every installed type is; two types of one name, or a plug-in
that cannot be loaded, stop the api at start with one line saying which.

The plug-ins here are real distributions as far as importlib.metadata can tell (a `.dist-info` folder
on the path), written by the tests."""

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings

GREETING = """
from pydantic import BaseModel, ConfigDict

from taskgate_contracts import TaskSpec


class GreetingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Ada"}]})

    name: str


class GreetingResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"greeting": "Hello, Ada"}]})

    greeting: str


GREETING = TaskSpec(name="greeting", args=GreetingArgs, result=GreetingResult, description="Say hello.")
"""


def install_plugin(folder: Path, distribution: str, module: str, source: str, entry_point: str) -> Path:
    """A distribution named `distribution` holding `module`, declaring `entry_point` under taskgate.tasks."""
    folder.mkdir(exist_ok=True)
    (folder / f"{module}.py").write_text(source)
    info = folder / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[taskgate.tasks]\n{entry_point}\n")
    return folder


def serve(cwd: Path, plugins: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "taskgate_api", "--port", "1"],
        env={"PYTHONPATH": str(plugins), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
    )


def test_an_installed_plug_in_s_type_is_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unreachable_settings: ApiSettings
) -> None:
    plugins = install_plugin(
        tmp_path / "plugins",
        "greeting-plugin",
        "taskgate_test_greeting",
        GREETING,
        "greeting = taskgate_test_greeting:GREETING",
    )
    monkeypatch.syspath_prepend(str(plugins))
    with TestClient(create_app(unreachable_settings), raise_server_exceptions=False) as client:
        document = client.get("/openapi.json").json()
        assert document["paths"]["/run/greeting"]["post"]["operationId"] == "run_greeting"
        assert "GreetingArgs" in document["components"]["schemas"]
        refused = client.post("/submit/greeting", json={"name": "Ada", "mood": "cheerful"})
        assert refused.json()["detail"][0]["loc"] == ["body", "mood"]
        # Valid: it is sending that fails, Redis being unreachable.
        assert client.post("/submit/greeting", json={"name": "Ada"}).status_code == 503
        assert client.post("/submit/nope", json={}).json()["known"] == ["greeting", "process", "thumbnail"]


def test_two_types_of_one_name_stop_the_api_with_one_line_naming_both(tmp_path: Path) -> None:
    plugins = install_plugin(
        tmp_path / "plugins",
        "copycat",
        "taskgate_test_copycat",
        "from taskgate_contracts.builtin.process import PROCESS\n",
        "process = taskgate_test_copycat:PROCESS",
    )
    result = serve(tmp_path, plugins)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("task type 'process' is declared twice: by taskgate.tasks entry point ")
    assert "taskgate_contracts.builtin:SPECS" in line
    assert "process = taskgate_test_copycat:PROCESS (copycat 0.1)" in line


def test_a_plug_in_that_cannot_be_loaded_stops_the_api_with_one_line_naming_it(tmp_path: Path) -> None:
    plugins = install_plugin(
        tmp_path / "plugins",
        "broken",
        "taskgate_test_broken",
        "import a_module_nobody_has\n",
        "broken = taskgate_test_broken:SPECS",
    )
    result = serve(tmp_path, plugins)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "cannot load taskgate.tasks entry point broken = taskgate_test_broken:SPECS (broken 0.1)"
    )
    assert "ModuleNotFoundError" in line
