"""What a worker hosts (every installed type with a handler, or a selection) and what it refuses."""

import logging
import re
import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, distribution
from pathlib import Path
from typing import Any

import pytest

from taskgate_contracts import Handler, Registry, TaskSpec
from taskgate_contracts.builtin.process import PROCESS, ProcessSettings
from taskgate_contracts.builtin.thumbnail import THUMBNAIL, ThumbnailSettings
from taskgate_contracts.registry import HANDLERS_GROUP
from taskgate_worker import handlers as handlers_module
from taskgate_worker.config import InvalidSettingsError, StartupError, WorkerSettings, environment
from taskgate_worker.factory import create_app
from taskgate_worker.hosting import Hosting, plan
from taskgate_worker.tasks.process import process
from taskgate_worker.tasks.thumbnail import make_thumbnail

from .testing_types import FLAKY, SHARED_QUEUE, SHARING_A, SHARING_B, flaky, nothing

SPECS: tuple[TaskSpec[Any, Any], ...] = (PROCESS, THUMBNAIL, FLAKY, SHARING_A, SHARING_B)
HANDLERS: dict[str, Handler] = {
    PROCESS.name: process,
    THUMBNAIL.name: make_thumbnail,
    FLAKY.name: flaky,
    SHARING_A.name: nothing,
    SHARING_B.name: nothing,
}


def _settings(tasks: Iterable[str] = (), queues: Iterable[str] = (), **values: Any) -> WorkerSettings:
    return WorkerSettings(_env_file=None, worker_tasks=tuple(tasks), worker_queues=tuple(queues), **values)


def _plan(
    settings: WorkerSettings | None = None,
    specs: Iterable[TaskSpec[Any, Any]] = SPECS,
    handlers: dict[str, Handler] | None = None,
    environ: dict[str, str] | None = None,
) -> Hosting:
    return plan(
        settings or _settings(),
        registry=Registry.of(specs),
        handlers=HANDLERS if handlers is None else handlers,
        environ=environ or {},
    )


def _refusal(**kwargs: Any) -> str:
    with pytest.raises(StartupError) as raised:
        _plan(**kwargs)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_by_default_every_installed_type_is_hosted() -> None:
    hosting = _plan()

    assert hosting.specs.names == sorted(HANDLERS)
    assert hosting.handlers[PROCESS.name] is process
    assert hosting.everything
    assert hosting.label == "all"


def test_a_type_without_a_handler_is_left_out_and_said_so_at_start(caplog: pytest.LogCaptureFixture) -> None:
    without_flaky = {name: handler for name, handler in HANDLERS.items() if name != FLAKY.name}
    hosting = _plan(handlers=without_flaky)
    (announce,) = create_app(_settings(), hosting).steps["worker"]
    with caplog.at_level(logging.INFO, logger="taskgate_worker.factory"):
        announce(None).start(None)

    assert FLAKY.name not in hosting.specs
    assert hosting.without_handler == (FLAKY.name,)
    assert not hosting.everything
    assert hosting.label == "process+testing.a+testing.b+thumbnail"
    assert "not hosting task type testing.flaky: no handler of it is installed" in caplog.messages
    assert "hosting task type thumbnail from queue taskgate.thumbnail" in caplog.messages


def test_tasks_select_types() -> None:
    hosting = _plan(_settings(tasks=[THUMBNAIL.name, PROCESS.name]))

    assert hosting.specs.names == [PROCESS.name, THUMBNAIL.name]
    assert set(hosting.handlers) == {PROCESS.name, THUMBNAIL.name}
    assert hosting.label == "process+thumbnail"


def test_queues_select_every_type_on_them() -> None:
    hosting = _plan(_settings(queues=[SHARED_QUEUE]))

    assert hosting.specs.names == [SHARING_A.name, SHARING_B.name]
    assert list(hosting.specs.queues()) == [SHARED_QUEUE]


def test_tasks_and_queues_add_up() -> None:
    hosting = _plan(_settings(tasks=[FLAKY.name], queues=["taskgate"]))

    assert hosting.specs.names == [PROCESS.name, FLAKY.name]


def test_an_unknown_type_is_refused() -> None:
    message = _refusal(settings=_settings(tasks=["report"]))

    assert message == (
        "cannot host task type 'report': it is not installed "
        "(installed: process, testing.a, testing.b, testing.flaky, thumbnail)"
    )


def test_an_unknown_queue_is_refused() -> None:
    message = _refusal(settings=_settings(queues=["reports"]))

    assert message.startswith(
        "cannot host queue 'reports': no installed task type uses it (queues: taskgate,"
    )


def test_a_type_without_a_handler_cannot_be_asked_for() -> None:
    without_flaky = {name: handler for name, handler in HANDLERS.items() if name != FLAKY.name}
    message = _refusal(settings=_settings(tasks=[FLAKY.name]), handlers=without_flaky)

    assert message == (
        "cannot host task type 'testing.flaky': no handler of it is installed "
        "(no taskgate.handlers entry point named 'testing.flaky')"
    )


def test_half_a_queue_is_refused() -> None:
    message = _refusal(settings=_settings(tasks=[SHARING_A.name]))

    assert message.startswith(f"queue {SHARED_QUEUE!r} also carries testing.b,")
    assert message.endswith("host it too or neither")


def test_half_a_queue_is_refused_by_default_too_when_a_handler_is_missing() -> None:
    without_b = {name: handler for name, handler in HANDLERS.items() if name != SHARING_B.name}
    message = _refusal(handlers=without_b)

    assert "also carries testing.b (no handler of testing.b is installed)" in message


def test_nothing_to_host_is_refused() -> None:
    assert (
        _refusal(handlers={}) == "no installed task type has a handler (taskgate.handlers): nothing to host"
    )


def test_a_handler_without_a_task_type_is_refused() -> None:
    message = _refusal(handlers={**HANDLERS, "report": nothing})

    assert message == "the handler given for 'report': no task type named 'report' is installed"


def test_time_limits_of_unknown_types_are_refused() -> None:
    with pytest.raises(InvalidSettingsError) as raised:
        _plan(_settings(task_time_limits={"report": 5}))

    assert str(raised.value) == (
        "invalid setting TASK_TIME_LIMITS: no task type named 'report' is installed "
        "(installed: process, testing.a, testing.b, testing.flaky, thumbnail)"
    )


def test_the_settings_of_the_hosted_types_are_loaded() -> None:
    hosting = _plan(environ={"MAX_DELAY": "12", "thumbnail_max_pixels": "500"})

    assert hosting.settings[PROCESS.name] == ProcessSettings(max_delay=12)
    assert hosting.settings[THUMBNAIL.name] == ThumbnailSettings(thumbnail_max_pixels=500)
    assert hosting.settings[FLAKY.name] is None


def test_a_wrong_setting_of_a_hosted_type_is_refused_with_its_name() -> None:
    with pytest.raises(InvalidSettingsError) as raised:
        _plan(environ={"MAX_DELAY": "-1"})

    assert str(raised.value) == "invalid setting MAX_DELAY: Input should be greater than 0"


def test_the_settings_of_a_type_not_hosted_are_not_read() -> None:
    hosting = _plan(_settings(tasks=[PROCESS.name]), environ={"THUMBNAIL_MAX_PIXELS": "many"})

    assert set(hosting.settings) == {PROCESS.name}


def test_task_types_read_dotenv_under_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MAX_DELAY=5\nTHUMBNAIL_MAX_PIXELS=600\n")
    monkeypatch.setenv("THUMBNAIL_MAX_PIXELS", "700")

    values = environment()

    assert (values["MAX_DELAY"], values["THUMBNAIL_MAX_PIXELS"]) == ("5", "700")


def test_node_names_say_what_is_hosted_and_differ_by_process() -> None:
    everything, some = _plan(), _plan(_settings(tasks=[PROCESS.name, FLAKY.name]))

    assert everything.node_name(pid=41, host="box") == "taskgate-all-41@box"
    assert some.node_name(pid=41, host="box") == "taskgate-process+testing.flaky-41@box"
    assert everything.node_name(pid=41) != everything.node_name(pid=42)
    assert everything.node_name().startswith("taskgate-all-")


def test_a_label_is_cut_to_fit_in_a_queue_name() -> None:
    many = [
        TaskSpec(name=f"testing.{'x' * 50}{n}", args=FLAKY.args, result=FLAKY.result, description="Many.")
        for n in range(5)
    ]
    hosting = _plan(
        _settings(tasks=[spec.name for spec in many[:4]]),
        specs=many,
        handlers=dict.fromkeys([spec.name for spec in many], flaky),
    )

    assert len(hosting.label) == 100
    assert re.fullmatch(r"[a-z0-9.+]+", hosting.label)


# Handlers declared through entry points, as an installed distribution declares them.


def _installed(monkeypatch: pytest.MonkeyPatch, *declared: EntryPoint) -> None:
    monkeypatch.setattr(
        handlers_module, "entry_points", lambda group: declared if group == HANDLERS_GROUP else ()
    )


def _entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=HANDLERS_GROUP)


def _refusal_with(monkeypatch: pytest.MonkeyPatch, *declared: EntryPoint, **settings: Any) -> str:
    _installed(monkeypatch, *declared)
    with pytest.raises(StartupError) as raised:
        plan(_settings(**settings), registry=Registry.of([PROCESS, THUMBNAIL]), environ={})
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_handlers_are_found_through_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(
        monkeypatch,
        _entry_point("process", "taskgate_worker.tasks.process:process"),
        _entry_point("thumbnail", "taskgate_worker.tasks.thumbnail:make_thumbnail"),
    )
    hosting = plan(_settings(), registry=Registry.of([PROCESS, THUMBNAIL]), environ={})

    assert hosting.handlers == {PROCESS.name: process, THUMBNAIL.name: make_thumbnail}


def test_only_the_hosted_handlers_are_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(
        monkeypatch,
        _entry_point("process", "taskgate_worker.tasks.process:process"),
        _entry_point("thumbnail", "taskgate_worker_missing:thumbnail"),
    )
    hosting = plan(_settings(tasks=[PROCESS.name]), registry=Registry.of([PROCESS, THUMBNAIL]), environ={})

    assert list(hosting.handlers) == [PROCESS.name]


def test_an_entry_point_handler_without_a_task_type_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal_with(monkeypatch, _entry_point("report", "acme.report:run"))

    assert message == (
        "taskgate.handlers entry point report = acme.report:run: no task type named 'report' is installed"
    )


def test_a_handler_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal_with(
        monkeypatch,
        _entry_point("process", "taskgate_worker.tasks.process:process"),
        _entry_point("process", "acme.process:run"),
    )

    assert message == (
        "the handler of task type 'process' is declared twice: "
        "by taskgate.handlers entry point process = taskgate_worker.tasks.process:process "
        "and by taskgate.handlers entry point process = acme.process:run"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "acme_missing.report:run",
            "module 'acme_missing' is not installed: install the package that provides 'acme_missing', "
            "or host other task types with --tasks",
        ),
        ("json:no_such_function", "AttributeError: module 'json' has no attribute 'no_such_function'"),
    ],
)
def test_a_handler_that_cannot_be_imported_is_named_with_the_error(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    message = _refusal_with(monkeypatch, _entry_point("process", value), tasks=[PROCESS.name])

    assert message == f"cannot load taskgate.handlers entry point process = {value}: {problem}"


def test_a_handler_that_is_not_a_function_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal_with(monkeypatch, _entry_point("process", "json:__name__"), tasks=[PROCESS.name])

    assert message == "taskgate.handlers entry point process = json:__name__ names 'json', not a function"


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow missing, as in an installation without the `thumbnail` extra."""
    worker = distribution("taskgate-worker")
    (declared,) = [ep for ep in worker.entry_points if ep.group == HANDLERS_GROUP and ep.name == "thumbnail"]
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.delitem(sys.modules, "taskgate_worker.tasks.thumbnail")

    message = _refusal_with(monkeypatch, declared)

    assert message == (
        f"cannot load taskgate.handlers entry point thumbnail = {declared.value} (taskgate-worker "
        f"{worker.version}): module 'PIL' is not installed: install taskgate-worker[thumbnail], "
        "or host other task types with --tasks"
    )
