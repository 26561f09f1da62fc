"""Finding task types through entry points, as a team's own package declares them."""

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from taskgate_contracts import Registry, RegistryError, TaskSpec, UnknownTaskTypeError, discover
from taskgate_contracts.builtin import SPECS

Install = Callable[[str, str, str], None]

#: The `make_spec` fixture: a spec of a small echo type, any field replaced.
MakeSpec = Callable[..., TaskSpec[Any, Any]]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Install a distribution for this test only: a module and its `taskgate.tasks` entry points, found
    by importlib.metadata like any installed package."""
    monkeypatch.syspath_prepend(str(tmp_path))
    modules: list[str] = []

    def install(distribution: str, module: str, entry_points: str) -> None:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(MODULE))
        info = tmp_path / f"{distribution}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[taskgate.tasks]\n{entry_points}\n")
        modules.append(module)

    yield install
    for module in modules:
        sys.modules.pop(module, None)


MODULE = """
    from pydantic import BaseModel

    from taskgate_contracts import TaskSpec


    class Args(BaseModel):
        text: str


    def spec(name: str) -> TaskSpec[Args, Args]:
        return TaskSpec(name=name, args=Args, result=Args, description="A test type.")


    ECHO = spec("echo")
    BOTH = [spec("upper"), spec("lower")]
    PROCESS_AGAIN = spec("process")
    NOT_A_SPEC = 42
    STRINGS = "not specs"
"""


def test_the_builtin_types_are_found_like_any_others() -> None:
    registry = discover()
    assert {spec.name for spec in SPECS} <= set(registry.names)
    assert (
        "taskgate.tasks entry point builtin = taskgate_contracts.builtin:SPECS" in registry.origins["process"]
    )


def test_a_plugin_adds_types_by_entry_points_alone(install: Install) -> None:
    install("acme-tasks", "acme_tasks", "one = acme_tasks:ECHO\nmore = acme_tasks:BOTH")
    registry = discover()
    assert {"echo", "upper", "lower", "process", "thumbnail"} <= set(registry.names)
    assert registry.origins["echo"] == "taskgate.tasks entry point one = acme_tasks:ECHO (acme-tasks 1.0)"
    assert registry["upper"].queue == "taskgate.upper"


def test_two_specs_of_one_name_stop_discovery_naming_both(install: Install) -> None:
    install("rogue-tasks", "rogue_tasks", "again = rogue_tasks:PROCESS_AGAIN")
    with pytest.raises(RegistryError) as clash:
        discover()
    message = str(clash.value)
    assert "task type 'process' is declared twice" in message
    assert "taskgate_contracts.builtin:SPECS (taskgate-contracts" in message
    assert "again = rogue_tasks:PROCESS_AGAIN (rogue-tasks 1.0)" in message
    assert "\n" not in message


@pytest.mark.parametrize("target", ["broken_tasks:NOT_A_SPEC", "broken_tasks:STRINGS"])
def test_an_entry_point_that_names_no_spec_is_refused(install: Install, target: str) -> None:
    install("broken-tasks", "broken_tasks", f"bad = {target}")
    with pytest.raises(RegistryError, match=f"bad = {target} .* not a TaskSpec or an iterable of them"):
        discover()


def test_an_entry_point_that_cannot_be_imported_is_named(install: Install) -> None:
    install("missing-tasks", "missing_tasks", "gone = missing_tasks_nowhere:SPECS")
    with pytest.raises(
        RegistryError, match=r"cannot load taskgate\.tasks entry point gone = .*ModuleNotFoundError"
    ):
        discover()


def test_looking_up_an_unknown_type_names_the_known_ones(make_spec: MakeSpec) -> None:
    registry = Registry.of([make_spec(name="b"), make_spec(name="a")])
    assert registry.names == ["a", "b"]
    with pytest.raises(UnknownTaskTypeError, match="unknown task type 'c'; known: a, b") as unknown:
        registry["c"]
    assert unknown.value.known == ["a", "b"]


def test_queues_subsets_and_task_names(make_spec: MakeSpec) -> None:
    registry = Registry.of(
        [make_spec(name="a", queue="shared"), make_spec(name="b", queue="shared"), make_spec(name="c")]
    )
    assert {queue: [spec.name for spec in specs] for queue, specs in registry.queues().items()} == {
        "shared": ["a", "b"],
        "taskgate.c": ["c"],
    }
    assert registry.subset(["c"]).names == ["c"]
    with pytest.raises(UnknownTaskTypeError):
        registry.subset(["d"])
    assert registry.by_task_name("taskgate.b") is registry["b"]
    assert registry.by_task_name("taskgate.d") is None
    assert "a" in registry
    assert "d" not in registry
    assert len(registry) == 3


def test_a_registry_of_given_specs_refuses_a_name_twice(make_spec: MakeSpec) -> None:
    with pytest.raises(RegistryError, match="'a' is declared twice"):
        Registry.of([make_spec(name="a"), make_spec(name="a")])


def test_names_that_differ_only_in_punctuation_are_refused(make_spec: MakeSpec) -> None:
    # Both would be the operations submit_acme_report and run_acme_report, answering AcmeReportCompleted.
    with pytest.raises(
        RegistryError, match=r"'acme\.report' .* and 'acme-report' .* differ only in punctuation"
    ):
        Registry.of([make_spec(name="acme.report"), make_spec(name="acme-report")])
