"""How the `taskgate` command shows tasks: a table of one task, a live progress bar, one-line outcomes."""

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from taskgate_contracts.events import TaskEvent
from taskgate_contracts.responses import CompletedResponse, PendingResponse, TaskState, TaskView

_STYLES = {
    TaskState.QUEUED: "cyan",
    TaskState.RUNNING: "blue",
    TaskState.COMPLETED: "green",
    TaskState.FAILED: "red",
    TaskState.CANCELLED: "yellow",
}


def console(*, stderr: bool = False) -> Console:
    # soft_wrap: a long line stays one line in a pipe or a log, where there is no terminal width.
    return Console(stderr=stderr, soft_wrap=True, highlight=False)


def _status(state: TaskState) -> str:
    return f"[{_STYLES[state]}]{state.value}[/]"


def _took(view: TaskView) -> str:
    if view.queued_at is None or view.finished_at is None:
        return ""
    return f" in {(view.finished_at - view.queued_at).total_seconds():.2f} s"


def task_table(view: TaskView) -> Table:
    """Every field of the task that is set, one per row."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    progress = view.progress
    steps = f" ({progress.current}/{progress.total})" if progress.total else ""
    rows = {
        "task": escape(view.task_id),
        "status": _status(view.status),
        "progress": escape(f"{progress.percent:.0f}%{steps} {progress.message}".rstrip()),
        "result": escape(view.result or ""),
        "error": escape(view.error or ""),
        "queued": view.queued_at.isoformat() if view.queued_at else "",
        "started": view.started_at.isoformat() if view.started_at else "",
        "finished": view.finished_at.isoformat() if view.finished_at else "",
        "worker": escape(view.worker or ""),
    }
    for name, value in rows.items():
        if value:
            table.add_row(name, value)
    return table


def outcome(view: TaskView) -> str:
    """One line for a task that has ended (or, for a status check, how it stands)."""
    detail = view.result if view.status is TaskState.COMPLETED else view.error
    return f"{_status(view.status)}{_took(view)}" + (f": {escape(detail)}" if detail else "")


def answer(response: CompletedResponse | PendingResponse) -> str:
    """One line for what `POST /process` answered."""
    if isinstance(response, CompletedResponse):
        return (
            f"{_status(TaskState.COMPLETED)} in {response.time:.2f} s: {escape(response.result)} "
            f"(task {escape(response.task_id)})"
        )
    return (
        f"[yellow]pending[/] after {response.time:.2f} s: {escape(response.message)} "
        f"(follow it: taskgate status {escape(response.task_id)})"
    )


def follow(events: Iterable[TaskEvent], start: TaskView, screen: Console) -> TaskView:
    """Show a live progress bar while `events` last; the task as the last event left it."""
    view = start
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=screen) as progress:
        bar = progress.add_task(_status(view.status), total=100, message="")
        for event in events:
            view = event.task
            progress.update(
                bar,
                completed=view.progress.percent,
                description=_status(view.status),
                message=escape(view.progress.message),
            )
    return view
