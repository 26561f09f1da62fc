"""Which task types a worker hosts, decided once at start, and the node name that says so.

By default a worker hosts every installed task type that has an installed handler. `--tasks`/WORKER_TASKS
and `--queues`/WORKER_QUEUES narrow it to some types, or to the types of some queues. A worker never
hosts part of a queue: the messages of the types it left out would reach it and be dead-lettered as
unknown tasks. Everything wrong is refused here, before the worker connects anywhere.
"""

import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from celery.utils.nodenames import gethostname, nodename
from pydantic import ValidationError

from taskgate_contracts import Handler, Registry, TaskSettings, describe_settings_error, discover
from taskgate_contracts.registry import HANDLERS_GROUP, AnySpec
from taskgate_contracts.tasks import load_settings as load_task_settings
from taskgate_worker.config import InvalidSettingsError, StartupError, WorkerSettings, environment
from taskgate_worker.handlers import given_handlers, installed_handlers

#: The label of a worker that hosts every installed task type.
EVERYTHING = "all"
#: Node names end up in queue names (`<node>.celery.pidbox`), which RabbitMQ caps at 255 bytes.
_LABEL_MAX_LENGTH = 100
_NOT_IN_NODE_NAMES = re.compile(r"[^A-Za-z0-9_.+-]")


@dataclass(frozen=True)
class Hosting:
    """The task types a worker hosts, with their handlers and the deployment's settings of each."""

    specs: Registry
    handlers: Mapping[str, Handler]
    settings: Mapping[str, TaskSettings | None]
    #: Whether it hosts every installed task type.
    everything: bool
    #: Installed task types it does not host for want of a handler.
    without_handler: tuple[str, ...]

    @property
    def label(self) -> str:
        """`all`, or the hosted types joined by `+`, as it can stand in a node name."""
        label = EVERYTHING if self.everything else "+".join(self.specs.names)
        return _NOT_IN_NODE_NAMES.sub("-", label)[:_LABEL_MAX_LENGTH]

    def node_name(self, pid: int | None = None, host: str | None = None) -> str:
        """`taskgate-<label>-<pid>@<host>`: what it hosts, and unique among the workers of a host, whose
        pidbox queues would otherwise clash (RabbitMQ refuses a second consumer of an exclusive queue)."""
        pid = os.getpid() if pid is None else pid
        name: str = nodename(f"taskgate-{self.label}-{pid}", gethostname() if host is None else host)
        return name


def plan(
    settings: WorkerSettings,
    *,
    registry: Registry | None = None,
    handlers: Mapping[str, Handler] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Hosting:
    """What this worker hosts. By default the installed task types (`discover()`), their entry-point
    handlers and the environment (`.env` overlaid by the process's); tests and embedding programs pass
    their own. Raises StartupError, or RegistryError from discovery, with one line saying what is wrong."""
    installed = discover() if registry is None else registry
    _check_time_limits(settings, installed)
    available = installed_handlers() if handlers is None else given_handlers(handlers)
    for name, handler in sorted(available.items()):
        if name not in installed:
            raise StartupError(f"{handler.origin}: no task type named {name!r} is installed")
    chosen = _chosen(installed, available, settings.worker_tasks, settings.worker_queues)
    _refuse_split_queues(installed, chosen, available)
    hosted = installed.subset(chosen)
    values = environment() if environ is None else environ
    return Hosting(
        specs=hosted,
        handlers={spec.name: available[spec.name].load() for spec in hosted},
        settings={spec.name: _task_settings(spec, values) for spec in hosted},
        everything=len(hosted) == len(installed),
        without_handler=tuple(name for name in installed.names if name not in available),
    )


def _check_time_limits(settings: WorkerSettings, installed: Registry) -> None:
    for name in settings.task_time_limits:
        if name not in installed:
            raise InvalidSettingsError(
                f"invalid setting TASK_TIME_LIMITS: no task type named {name!r} is installed "
                f"(installed: {', '.join(installed.names)})"
            )


def _chosen(
    installed: Registry, available: Collection[str], tasks: Sequence[str], queues: Sequence[str]
) -> list[str]:
    if not (tasks or queues):
        chosen = [name for name in installed.names if name in available]
        if not chosen:
            raise StartupError(f"no installed task type has a handler ({HANDLERS_GROUP}): nothing to host")
        return chosen
    by_queue = installed.queues()
    for queue in queues:
        if queue not in by_queue:
            raise StartupError(
                f"cannot host queue {queue!r}: no installed task type uses it (queues: {', '.join(by_queue)})"
            )
    for name in tasks:
        if name not in installed:
            known = ", ".join(installed.names)
            raise StartupError(f"cannot host task type {name!r}: it is not installed (installed: {known})")
    chosen = list(dict.fromkeys([*tasks, *(spec.name for queue in queues for spec in by_queue[queue])]))
    for name in chosen:
        if name not in available:
            raise StartupError(
                f"cannot host task type {name!r}: no handler of it is installed "
                f"(no {HANDLERS_GROUP} entry point named {name!r})"
            )
    return chosen


def _refuse_split_queues(installed: Registry, chosen: Collection[str], available: Collection[str]) -> None:
    for queue, specs in installed.queues().items():
        left_out = [spec.name for spec in specs if spec.name not in chosen]
        if left_out and len(left_out) < len(specs):
            unhandled = [name for name in left_out if name not in available]
            why = f" (no handler of {', '.join(unhandled)} is installed)" if unhandled else ""
            them = "it" if len(left_out) == 1 else "them"
            raise StartupError(
                f"queue {queue!r} also carries {', '.join(left_out)}{why}, whose messages this worker would "
                f"dead-letter as unknown tasks; host {them} too or neither"
            )


def _task_settings(spec: AnySpec, environ: Mapping[str, str]) -> TaskSettings | None:
    if spec.settings is None:
        return None
    try:
        return load_task_settings(spec.settings, environ)
    except ValidationError as exc:
        raise InvalidSettingsError(describe_settings_error(exc)) from None
