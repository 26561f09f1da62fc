"""`taskgate-ops`: run Flower, shape RabbitMQ, start the stack natively, and diagnose it."""

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from taskgate_contracts import QueueType, Registry, RegistryError, discover
from taskgate_ops.bootstrap import Outcome, bootstrap
from taskgate_ops.config import OpsSettings, SettingsError, load_settings
from taskgate_ops.doctor import Status, diagnose, healthy
from taskgate_ops.flower import flower_launch, require_credentials
from taskgate_ops.launcher import AFTER_BOOTSTRAP, BEFORE_BOOTSTRAP, LaunchError, require, stack
from taskgate_ops.management import ManagementApi, ManagementError
from taskgate_ops.processgroup import ProcessGroup
from taskgate_ops.rabbitmq_files import render
from taskgate_ops.topology import DEFAULT_VHOST, build_topology
from taskgate_ops.version import __version__

PROG = "taskgate-ops"
# typer's own completion options: --show-completion prints the script for the shell it runs in,
# --install-completion adds it to the shell's startup file.
app = typer.Typer(name=PROG, help="Run Flower, shape RabbitMQ, start the stack natively, and diagnose it.")
rabbitmq_app = typer.Typer(help="RabbitMQ topology generated from the task types.")
app.add_typer(rabbitmq_app, name="rabbitmq")

console = Console()
errors = Console(stderr=True)

_INSECURE_DEV_HELP = "Run Flower without credentials, on 127.0.0.1 only (development)."
_STATUS_STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}
#: The base of every mistake on the command line that click reports (typer runs on click, or on a copy
#: of it of its own), found from one of them that typer exports.
_COMMAND_LINE_ERROR: type[Exception] = next(
    base for base in typer.BadParameter.__mro__ if base.__name__ == "ClickException"
)


class QueueTypeChoice(StrEnum):
    """RABBITMQ_QUEUE_TYPE's values as an option's choices (typer reads a Literal only from 0.19)."""

    CLASSIC = "classic"
    QUORUM = "quorum"


_QUEUE_TYPES: dict[QueueTypeChoice, QueueType] = {
    QueueTypeChoice.CLASSIC: "classic",
    QueueTypeChoice.QUORUM: "quorum",
}


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


_LOG_LEVEL_HELP = "How much the processes log."


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit() -> OpsSettings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


def registry_or_exit() -> Registry:
    """The installed task types; two that clash, or a plug-in that cannot load, stop the command."""
    try:
        return discover()
    except RegistryError as exc:
        fail(str(exc), code=2)


def _show_version(shown: bool) -> None:
    if shown:
        console.print(f"{PROG} {__version__}", highlight=False)
        raise typer.Exit()


def _help_without_a_command(context: typer.Context) -> None:
    if context.invoked_subcommand is None:
        console.print(context.get_help(), highlight=False, markup=False)
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _options(
    context: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    _help_without_a_command(context)


@rabbitmq_app.callback(invoke_without_command=True)
def _rabbitmq(context: typer.Context) -> None:
    _help_without_a_command(context)


@app.command()
def flower(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port Flower serves on.")] = 5555,
    address: Annotated[str, typer.Option(help="Address Flower listens on.")] = "0.0.0.0",  # noqa: S104
    insecure_dev: Annotated[bool, typer.Option("--insecure-dev", help=_INSECURE_DEV_HELP)] = False,
    log_level: Annotated[LogLevel, typer.Option(case_sensitive=False, help=_LOG_LEVEL_HELP)] = LogLevel.INFO,
) -> None:
    """Run Flower with basic auth, persistent history, the broker's queues and Prometheus metrics."""
    settings = settings_or_exit()
    try:
        launch = flower_launch(settings, port, address, insecure_dev, os.environ, log_level)
    except SettingsError as exc:
        fail(str(exc), code=2)
    try:
        settings.flower_db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(
            f"invalid setting FLOWER_DB: cannot create {settings.flower_db.parent}: {error.strerror}", code=2
        )
    # Flower takes this process's place, so signals (and `up`'s process group) reach it directly.
    os.execve(launch.argv[0], launch.argv, launch.env)  # noqa: S606 - argv built from our own settings


@rabbitmq_app.command("render")
def rabbitmq_render(
    out: Annotated[Path, typer.Option(help="Folder to write the files into.")],
    vhost: Annotated[str, typer.Option(help="The vhost the definitions declare.")] = DEFAULT_VHOST,
    queue_type: Annotated[
        QueueTypeChoice,
        typer.Option(help="Task queues' type, as RABBITMQ_QUEUE_TYPE sets it for the services."),
    ] = QueueTypeChoice.CLASSIC,
) -> None:
    """Write rabbitmq.conf, enabled_plugins and definitions.json (no secrets in them)."""
    registry = registry_or_exit()
    try:
        written = render(out, vhost, registry, _QUEUE_TYPES[queue_type])
    except OSError as error:
        fail(f"--out {out}: cannot write there: {error.strerror or error}", code=2)
    for path in written:
        console.print(f"wrote {path}", highlight=False)


@rabbitmq_app.command("bootstrap")
def rabbitmq_bootstrap() -> None:
    """Apply the topology to a running broker (RABBITMQ_VHOST) through its management API."""
    apply_topology(settings_or_exit(), registry_or_exit())


def apply_topology(settings: OpsSettings, registry: Registry) -> None:
    try:
        with ManagementApi.from_settings(settings) as api:
            topology = build_topology(settings.rabbitmq_vhost, registry, settings.rabbitmq_queue_type)
            changes = bootstrap(api, topology)
    except ManagementError as exc:
        fail(str(exc))
    title = f"RabbitMQ {api.url}, vhost {settings.rabbitmq_vhost!r}, {settings.rabbitmq_queue_type} queues"
    table = Table("kind", "name", "outcome", title=title)
    for change in changes:
        style = "dim" if change.outcome is Outcome.UNCHANGED else "green"
        table.add_row(change.kind, change.name, f"[{style}]{change.outcome}[/]")
    console.print(table)
    applied = [change for change in changes if change.outcome is not Outcome.UNCHANGED]
    if applied:
        console.print(f"applied {len(applied)} change(s)")
    else:
        console.print("nothing to change: the broker already matches the topology")


@app.command()
def up(
    api_port: Annotated[int, typer.Option(min=0, max=65535, help="Port the api serves on.")] = 8000,
    flower_port: Annotated[int, typer.Option(min=0, max=65535, help="Port Flower serves on.")] = 5555,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Processes of each worker (else WORKER_CONCURRENCY).")
    ] = None,
    insecure_dev: Annotated[bool, typer.Option("--insecure-dev", help=_INSECURE_DEV_HELP)] = False,
    worker_per_queue: Annotated[
        bool,
        typer.Option(
            "--worker-per-queue", help="One worker per task queue (`taskgate-worker --queues <queue>`)."
        ),
    ] = False,
    log_level: Annotated[LogLevel, typer.Option(case_sensitive=False, help=_LOG_LEVEL_HELP)] = LogLevel.INFO,
) -> None:
    """Start the worker(s), the api and Flower as local processes; Ctrl-C stops them all."""
    settings = settings_or_exit()
    registry = registry_or_exit()
    worker_queues = list(registry.queues()) if worker_per_queue else None
    try:
        if not insecure_dev:
            require_credentials(settings)
        require(settings, BEFORE_BOOTSTRAP)
        log_format = settings.chosen_log_format(sys.stdout)
        processes = stack(
            api_port, flower_port, concurrency, insecure_dev, worker_queues, log_format, log_level
        )
        apply_topology(settings, registry)
        require(settings, AFTER_BOOTSTRAP)
    except (SettingsError, LaunchError) as exc:
        fail(str(exc))
    raise typer.Exit(ProcessGroup(processes, sys.stdout).run())


@app.command()
def doctor() -> None:
    """Check RabbitMQ, its management API, Redis, the workers, each task queue, the api and Flower."""
    settings = settings_or_exit()
    results = diagnose(settings, registry_or_exit())
    table = Table("check", "status", title="taskgate doctor")
    # Addresses and commands are folded, never cut: they are what the reader copies.
    table.add_column("detail", overflow="fold")
    table.add_column("what to do", overflow="fold")
    for result in results:
        status = f"[{_STATUS_STYLES[result.status]}]{result.status}[/]"
        table.add_row(result.name, status, result.detail, result.remedy)
    console.print(table)
    if not healthy(results):
        fail("the stack is not healthy", code=1)


def main(argv: list[str] | None = None) -> None:
    """The command; a mistake on its command line is one line and exit code 2, as in every taskgate one."""
    try:
        code: Any = app(args=argv, prog_name=PROG, standalone_mode=False)
    except _COMMAND_LINE_ERROR as error:
        context = getattr(error, "ctx", None)
        where = PROG if context is None else context.command_path
        message = error.format_message()  # type: ignore[attr-defined]
        errors.print(f"{where}: error: {message}", markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)
