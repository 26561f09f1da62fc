"""How the `taskgate` command shows tasks: a table of one task, a live progress bar, one-line outcomes,
results as JSON, and the task types installed here."""

import json
import re
from collections.abc import Iterable
from typing import Any

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
from taskgate_contracts.history import DeadLetter
from taskgate_contracts.registry import AnySpec, Registry
from taskgate_contracts.responses import TaskState, TaskView, WebhookView

_STYLES = {
    TaskState.QUEUED: "cyan",
    TaskState.RUNNING: "blue",
    TaskState.COMPLETED: "green",
    TaskState.FAILED: "red",
    TaskState.CANCELLED: "yellow",
}

#: Strings longer than this are shown by their length only: a thumbnail's base64 image would fill screens.
LONG_STRING = 200
#: Base64 or base64url, maybe in lines (as `base64.encodebytes` writes it).
_BASE64 = re.compile(r"[A-Za-z0-9+/_\-\r\n]+=*\s*")


def console(*, stderr: bool = False) -> Console:
    # soft_wrap: a long line stays one line in a pipe or a log, where there is no terminal width.
    # emoji off: `:x:` in a task's result or error is text, not an emoji code.
    return Console(stderr=stderr, soft_wrap=True, highlight=False, emoji=False)


def _status(state: TaskState) -> str:
    return f"[{_STYLES[state]}]{state.value}[/]"


def _took(view: TaskView) -> str:
    if view.queued_at is None or view.finished_at is None:
        return ""
    return f" in {(view.finished_at - view.queued_at).total_seconds():.2f} s"


def shortened(value: Any) -> Any:
    """The JSON `value` with every long string replaced by its length, as `<12,345 base64 chars>`."""
    if isinstance(value, str) and len(value) > LONG_STRING:
        return f"<{len(value):,} {'base64 chars' if _BASE64.fullmatch(value) else 'chars'}>"
    if isinstance(value, dict):
        return {key: shortened(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shortened(item) for item in value]
    return value


def result_json(result: Any, indent: int | None = None) -> str:
    """A task's result for people to read: JSON, its long strings shortened."""
    return json.dumps(shortened(result), ensure_ascii=False, indent=indent)


def task_table(view: TaskView) -> Table:
    """Every field of the task that is set, one per row."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    progress = view.progress
    steps = f" ({progress.current}/{progress.total})" if progress.total else ""
    rows = {
        "task": escape(view.task_id),
        "type": escape(view.task or ""),
        "status": _status(view.status),
        "progress": escape(f"{progress.percent:.0f}%{steps} {progress.message}".rstrip()),
        "result": escape(result_json(view.result)) if view.result is not None else "",
        "error": escape(view.error or ""),
        "attempts": str(view.attempts or ""),
        "queued": view.queued_at.isoformat() if view.queued_at else "",
        "started": view.started_at.isoformat() if view.started_at else "",
        "finished": view.finished_at.isoformat() if view.finished_at else "",
        "worker": escape(view.worker or ""),
        "key": escape(view.submitted_by or ""),
        "expires": view.expires_at.isoformat() if view.expires_at else "",
        "webhook": _webhook(view.webhook) if view.webhook is not None else "",
    }
    for name, value in rows.items():
        if value:
            table.add_row(name, value)
    return table


def _webhook(webhook: WebhookView) -> str:
    """Where the task's view is posted, how that stands, and each attempt on a line of its own."""
    lines = [f"{escape(webhook.url)} {webhook.state.value}"]
    for attempt in webhook.attempts:
        answer = f"HTTP {attempt.status}" if attempt.error is None else attempt.error
        lines.append(f"  {attempt.at.isoformat()} {escape(answer)}")
    if webhook.next_attempt_at is not None:
        lines.append(f"  next attempt at {webhook.next_attempt_at.isoformat()}")
    return "\n".join(lines)


def tasks_table(views: Iterable[TaskView]) -> Table:
    """One row per task: the history as `taskgate list` shows it."""
    table = Table(box=None, padding=(0, 2), header_style="bold")
    # Ids whole, never cut: they are what the next command takes.
    table.add_column("task", no_wrap=True, min_width=36)
    for column in ("type", "status", "queued", "key"):
        table.add_column(column, overflow="fold")
    for view in views:
        table.add_row(
            escape(view.task_id),
            escape(view.task or ""),
            _status(view.status),
            view.queued_at.isoformat(timespec="seconds") if view.queued_at else "",
            escape(view.submitted_by or ""),
        )
    return table


def dead_letters_table(letters: Iterable[DeadLetter]) -> Table:
    """One row per dead letter: which task, from which queue, why and since when, with what."""
    table = Table(box=None, padding=(0, 2), header_style="bold")
    table.add_column("task", no_wrap=True, min_width=36)
    for column in ("type", "queue", "why", "when", "args"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        why = " — ".join(part for part in (letter.reason, letter.detail) if part)
        table.add_row(
            escape(letter.task_id or "?"),
            escape(letter.task or ""),
            escape(letter.queue),
            escape(why),
            letter.dead_lettered_at.isoformat(timespec="seconds") if letter.dead_lettered_at else "",
            escape(result_json(letter.args)) if letter.args is not None else "",
        )
    return table


def outcome(view: TaskView) -> str:
    """One line for a task that has ended (or, for a status check, how it stands)."""
    if view.status is TaskState.COMPLETED:
        detail = result_json(view.result) if view.result is not None else None
    else:
        detail = view.error
    return f"{_status(view.status)}{_took(view)}" + (f": {escape(detail)}" if detail else "")


def task_type(spec: AnySpec) -> dict[str, str]:
    """A task type as `taskgate types --json` lists it."""
    return {"name": spec.name, "queue": spec.queue, "description": spec.description}


def task_types(registry: Registry) -> list[str]:
    """One line per task type: its name, its queue and what it does, in columns."""
    name_width = max((len(spec.name) for spec in registry), default=0)
    queue_width = max((len(spec.queue) for spec in registry), default=0)
    return [
        f"{spec.name:<{name_width}}  {spec.queue:<{queue_width}}  {spec.description}" for spec in registry
    ]


def follow(events: Iterable[TaskEvent], start: TaskView, screen: Console | None) -> TaskView:
    """A live progress bar on `screen`, if given, while `events` last; the task as the last one left it."""
    view = start
    if screen is None:
        for event in events:
            view = event.task
        return view
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
