"""`taskgate`: submit and run tasks of any type on a taskgate api, follow them live, look them up, cancel
them, list the task history and the task types installed here, and (with an admin key) list and replay
dead letters.

Every command takes `--json`: its answer is then one JSON document on stdout, for scripts (a task's
arguments are given with `--args '{...}'`). Errors are one line on stderr either way.

Exit codes: 0 done (a completed task, or a request the api accepted), 1 the task failed, was cancelled or
(`run`) had not finished in time, 2 a usage error, a broken task-type installation or a request the api
refused (4xx), 3 the api is unreachable or cannot work (5xx, 503) or the key is over a limit (429), 130
interrupted.
"""

import argparse
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from pydantic import BaseModel
from rich.console import Console, RenderableType
from rich.text import Text

from taskgate_client import rendering
from taskgate_client.arguments import ArgumentsError, Field, task_arguments
from taskgate_client.calls import DEFAULT_TASK_TIMEOUT, DEFAULT_URL, TaskFilter
from taskgate_client.errors import (
    ApiConnectionError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    TaskCancelledError,
    TaskFailedError,
    TaskgateError,
    TaskPendingError,
    UnauthorizedError,
)
from taskgate_client.sync_client import TaskgateClient
from taskgate_client.version import __version__
from taskgate_contracts.registry import Registry, RegistryError, discover
from taskgate_contracts.responses import TaskState, TaskView

OK, TASK_DID_NOT_COMPLETE, REFUSED, UNAVAILABLE, INTERRUPTED = 0, 1, 2, 3, 130
#: The shells `--show-completion` writes a script for, as every taskgate command does.
SHELLS = ("bash", "zsh", "fish", "powershell")
#: The variables the command's defaults come from; an empty one counts as unset.
URL_VARIABLE, API_KEY_VARIABLE = "TASKGATE_URL", "TASKGATE_API_KEY"

Command = Callable[[TaskgateClient, argparse.Namespace, Console, Console], int]


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (0 <= value < math.inf):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, at least 0, got {text}")
    return value


def _print_json(out: Console, document: Any) -> None:
    """One JSON document, whole (long strings too), on one line."""
    out.print(json.dumps(document, ensure_ascii=False), markup=False)


def _ended(view: TaskView) -> int:
    return OK if view.status is TaskState.COMPLETED else TASK_DID_NOT_COMPLETE


def _args_fields(name: str) -> Mapping[str, Field] | None:
    """The fields of the type's args model, when it is installed here."""
    registry = discover()
    if name not in registry:
        return None
    fields: Mapping[str, Field] = registry[name].args.model_json_schema().get("properties", {})
    return fields


def _task_args(args: argparse.Namespace) -> dict[str, Any]:
    # Discovery only when it matters: --args alone is sent as it is.
    fields = _args_fields(args.task) if args.arg else None
    return task_arguments(args.args, args.arg, fields)


def _submit(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    submitted = client.submit(
        args.task, _task_args(args), idempotency_key=args.idempotency_key, callback_url=args.callback_url
    )
    if not args.follow:
        if args.json:
            _print_json(out, submitted.model_dump(mode="json"))
        else:
            out.print(submitted.task_id, markup=False)
        return OK
    if not args.json:
        out.print(submitted.task_id, markup=False)
    start = TaskView(task_id=submitted.task_id, task=args.task, status=submitted.status)
    try:
        # With --json the progress bar stays off: stderr may be a script's log.
        view = rendering.follow(client.events(submitted.task_id), start, None if args.json else err)
    except KeyboardInterrupt:
        err.print(
            f"stopped following; the task keeps running (taskgate cancel {submitted.task_id})", markup=False
        )
        return INTERRUPTED
    if args.json:
        _print_json(out, view.model_dump(mode="json"))
    else:
        out.print(rendering.outcome(view))
    return _ended(view)


def _run(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    result = client.run(
        args.task,
        _task_args(args),
        idempotency_key=args.idempotency_key,
        callback_url=args.callback_url,
        timeout=args.timeout,
    )
    if args.json:
        _print_json(out, result)
    else:
        out.print(rendering.result_json(result, indent=2), markup=False)
    if args.out is not None:
        try:
            args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            raise ArgumentsError(f"--out {args.out}: cannot write it: {error.strerror or error}") from None
    return OK


def _show(out: Console, args: argparse.Namespace, answer: BaseModel, shown: RenderableType) -> int:
    """The api's answer as JSON with --json, else as `shown`, for people."""
    if args.json:
        _print_json(out, answer.model_dump(mode="json"))
    else:
        out.print(shown)
    return OK


def _status(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    view = client.get(args.task_id, wait=args.wait)
    return _show(out, args, view, rendering.task_table(view))


def _cancel(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    view = client.cancel(args.task_id)
    return _show(out, args, view, f"{rendering.outcome(view)} (task {view.task_id})")


def _list(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    which = TaskFilter(status=args.status, task=args.task, since=args.since, until=args.until)
    if args.all:
        views = client.all_tasks(which, page_size=args.limit)
        if args.json:
            _print_json(out, {"tasks": [view.model_dump(mode="json") for view in views], "next_cursor": None})
        else:
            out.print(rendering.tasks_table(views))
        return OK
    page = client.list_tasks(which, limit=args.limit, cursor=args.cursor)
    if args.json:
        _print_json(out, page.model_dump(mode="json"))
        return OK
    out.print(rendering.tasks_table(page.tasks))
    if page.next_cursor is not None:
        err.print(f"more: taskgate list --cursor {page.next_cursor} (same filters)", markup=False)
    return OK


def _dead_letters(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    listing = client.dead_letters(limit=args.limit)
    if args.json:
        _print_json(out, listing.model_dump(mode="json"))
        return OK
    if not listing.dead_letters:
        err.print("the dead-letter queues are empty", markup=False)
    else:
        out.print(rendering.dead_letters_table(listing.dead_letters))
    if listing.truncated:
        err.print(f"more wait than the {args.limit} listed (--limit)", markup=False)
    return OK


def _replay(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    replayed = client.replay(args.task_id)
    return _show(out, args, replayed, Text(f"task {replayed.task_id} sent back to queue {replayed.queue}"))


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of at least 1: {text!r}")
    return int(text)


def _types(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    # The internal types (a webhook's delivery) are taskgate's own: no client submits them.
    registry = Registry.of(spec for spec in discover() if not spec.internal)
    if args.json:
        _print_json(out, [rendering.task_type(spec) for spec in registry])
        return OK
    if not registry:
        err.print("no task types are installed here", markup=False)
    for line in rendering.task_types(registry):
        out.print(line, markup=False)
    return OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A wrong option is one line on stderr and exit code 2, as every taskgate command says it."""
        self.exit(REFUSED, f"{self.prog}: error: {message}\n")


class _Completion(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: object, shell: Any, _: Any = None) -> None:
        # Imported only to write the script, and when the shell asks for completions.
        from argcomplete.shell_integration import shellcode

        shell = shell or Path(os.environ.get("SHELL", "")).name
        if shell not in SHELLS:
            parser.error(f"--show-completion: name the shell, one of {', '.join(SHELLS)}")
        print(shellcode([parser.prog], shell=shell), end="")
        parser.exit(OK)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="taskgate", description="Run and follow tasks on a taskgate api.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--show-completion",
        action=_Completion,
        nargs="?",
        choices=SHELLS,
        metavar="SHELL",
        help=f"print the script that completes taskgate's commands in SHELL ({', '.join(SHELLS)}) and exit",
    )
    parser.add_argument(
        "--url",
        type=_base_url,
        default=os.environ.get(URL_VARIABLE) or DEFAULT_URL,
        help=f"the api's base URL (default: ${URL_VARIABLE}, else {DEFAULT_URL})",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_VARIABLE) or None,
        help=f"the key the api requires, if it requires one (default: ${API_KEY_VARIABLE})",
    )
    parser.add_argument(
        "--task-timeout",
        type=_seconds,
        default=DEFAULT_TASK_TIMEOUT,
        help="the api's TASK_TIMEOUT: how long `run` may wait for its answer, and the longest wait the "
        "api accepts (default: %(default)g)",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, run: Command, help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(run=run)
        sub.add_argument(
            "--json", action="store_true", help="print the answer as one JSON document, for scripts"
        )
        return sub

    def task(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("task", metavar="NAME", help="the task type (see `taskgate types`)")
        sub.add_argument(
            "--arg",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="one argument; a string field takes VALUE as it is, others parse it as JSON; "
            "KEY=@PATH reads a file, base64-encoded for a base64 field (repeatable)",
        )
        sub.add_argument(
            "--args", metavar="OBJECT", help="the arguments as a JSON object; --arg wins per key"
        )
        sub.add_argument(
            "--idempotency-key", help="the same key attaches to the same task, never a second one"
        )
        sub.add_argument(
            "--callback-url",
            metavar="URL",
            help="post the task's view here once it ends, signed per Standard Webhooks (the api's "
            "WEBHOOK_ALLOWED_HOSTS must allow it)",
        )

    submit = command("submit", _submit, "queue a task and print its id")
    task(submit)
    submit.add_argument("--follow", action="store_true", help="show its progress live until it ends")
    run = command("run", _run, "run a task and print its result once it completes")
    task(run)
    run.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="seconds to wait for the result (default: --task-timeout, which the api may hold the "
        "request for anyway)",
    )
    run.add_argument(
        "--out", type=Path, metavar="PATH", help="also write the whole result, long strings too, as JSON"
    )
    status = command("status", _status, "show a task")
    status.add_argument("task_id", metavar="ID")
    status.add_argument("--wait", type=_seconds, help="first wait up to this many seconds for it to end")
    command("cancel", _cancel, "cancel a queued or running task").add_argument("task_id", metavar="ID")
    command("types", _types, "list the task types installed where this command runs")
    history = command("list", _list, "list tasks, newest first (a client key's own; an admin key's all)")
    history.add_argument("--status", choices=[state.value for state in TaskState], help="only in this state")
    history.add_argument("--task", metavar="NAME", help="only of this task type")
    history.add_argument("--since", type=_moment, metavar="TIME", help="only queued at or after (ISO 8601)")
    history.add_argument("--until", type=_moment, metavar="TIME", help="only queued at or before (ISO 8601)")
    history.add_argument("--limit", type=_count, default=20, help="tasks per page (default: %(default)s)")
    pages = history.add_mutually_exclusive_group()
    pages.add_argument("--cursor", help="the page after the one that printed this cursor")
    pages.add_argument("--all", action="store_true", help="every page, not just the first")
    letters = command("dead-letters", _dead_letters, "list what the dead-letter queues hold (an admin key)")
    letters.add_argument(
        "--limit", type=_count, default=100, help="list at most this many (default: %(default)s)"
    )
    command(
        "replay", _replay, "send a dead-lettered task back to its queue, once (an admin key)"
    ).add_argument("task_id", metavar="ID")
    return parser


def _exit_code(error: Exception) -> int:
    if isinstance(error, TaskFailedError | TaskCancelledError | TaskPendingError):
        return TASK_DID_NOT_COMPLETE
    if isinstance(error, ApiConnectionError | ServiceUnavailableError | ServerError | RateLimitedError):
        return UNAVAILABLE
    return REFUSED


def _explain(error: Exception) -> str:
    if isinstance(error, UnauthorizedError):
        return f"{error} (pass --api-key or set TASKGATE_API_KEY)"
    if isinstance(error, TaskPendingError):
        return f"{error}; it keeps running (taskgate status {error.task_id})"
    if isinstance(error, RateLimitedError):
        return f"{error}; try again in {error.retry_after} s"
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer and exit
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    out, err = rendering.console(), rendering.console(stderr=True)
    run: Command = args.run
    try:
        with TaskgateClient(args.url, api_key=args.api_key, task_timeout=args.task_timeout) as client:
            return run(client, args, out, err)
    except (TaskgateError, ArgumentsError, RegistryError) as error:
        err.print(f"taskgate: error: {_explain(error)}", style="red", markup=False)
        return _exit_code(error)
    except KeyboardInterrupt:
        err.print("taskgate: interrupted")
        return INTERRUPTED
