"""`taskgate`: submit jobs to a taskgate api, follow them live, look them up and cancel them.

Exit codes: 0 done (a completed task, or a request the api accepted), 1 the task failed or was cancelled,
2 a usage error or a request the api refused (4xx), 3 the api is unreachable or cannot work (5xx, 503),
130 interrupted.
"""

import argparse
import os
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from rich.console import Console

from taskgate_contracts.client import rendering
from taskgate_contracts.client.calls import DEFAULT_TASK_TIMEOUT, DEFAULT_URL
from taskgate_contracts.client.errors import (
    ApiConnectionError,
    ServerError,
    ServiceUnavailableError,
    TaskFailedError,
    TaskgateError,
    UnauthorizedError,
)
from taskgate_contracts.client.sync_client import TaskgateClient
from taskgate_contracts.responses import TaskState, TaskView
from taskgate_contracts.version import __version__

OK, TASK_DID_NOT_COMPLETE, REFUSED, UNAVAILABLE, INTERRUPTED = 0, 1, 2, 3, 130

Command = Callable[[TaskgateClient, argparse.Namespace, Console, Console], int]


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    return text


def _ended(view: TaskView) -> int:
    return OK if view.status is TaskState.COMPLETED else TASK_DID_NOT_COMPLETE


def _submit(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    submitted = client.submit(args.delay, idempotency_key=args.idempotency_key)
    out.print(submitted.task_id, markup=False)
    if not args.follow:
        return OK
    start = TaskView(task_id=submitted.task_id, status=submitted.status)
    try:
        view = rendering.follow(client.events(submitted.task_id), start, err)
    except KeyboardInterrupt:
        err.print(
            f"stopped following; the task keeps running (taskgate cancel {submitted.task_id})", markup=False
        )
        return INTERRUPTED
    out.print(rendering.outcome(view))
    return _ended(view)


def _process(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    out.print(rendering.answer(client.process(args.delay, idempotency_key=args.idempotency_key)))
    return OK


def _status(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    out.print(rendering.task_table(client.get(args.task_id, wait=args.wait)))
    return OK


def _cancel(client: TaskgateClient, args: argparse.Namespace, out: Console, err: Console) -> int:
    view = client.cancel(args.task_id)
    out.print(f"{rendering.outcome(view)} (task {view.task_id})")
    return OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskgate", description="Run and follow jobs on a taskgate api.")
    parser.add_argument("--version", action="version", version=f"taskgate {__version__}")
    parser.add_argument(
        "--url",
        type=_base_url,
        default=os.environ.get("TASKGATE_URL", DEFAULT_URL),
        help=f"the api's base URL (default: $TASKGATE_URL, else {DEFAULT_URL})",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("TASKGATE_API_KEY"),
        help="the key the api requires, if it requires one (default: $TASKGATE_API_KEY)",
    )
    parser.add_argument(
        "--task-timeout",
        type=float,
        default=DEFAULT_TASK_TIMEOUT,
        help="the api's TASK_TIMEOUT: how long `process` may wait for its answer (default: %(default)g)",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def command(name: str, run: Command, help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(run=run)
        return sub

    def job(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--delay", type=float, required=True, help="seconds the job works for")
        sub.add_argument(
            "--idempotency-key", help="the same key attaches to the same task, never a second one"
        )

    submit = command("submit", _submit, "queue a job and print its task id")
    job(submit)
    submit.add_argument("--follow", action="store_true", help="show its progress live until it ends")
    job(command("process", _process, "run a job and wait for its outcome, as POST /process does"))
    status = command("status", _status, "show a task")
    status.add_argument("task_id", metavar="ID")
    status.add_argument("--wait", type=float, help="first wait up to this many seconds for it to end")
    command("cancel", _cancel, "cancel a queued or running task").add_argument("task_id", metavar="ID")
    return parser


def _exit_code(error: TaskgateError) -> int:
    if isinstance(error, TaskFailedError):
        return TASK_DID_NOT_COMPLETE
    if isinstance(error, ApiConnectionError | ServiceUnavailableError | ServerError):
        return UNAVAILABLE
    return REFUSED


def _explain(error: TaskgateError) -> str:
    if isinstance(error, UnauthorizedError):
        return f"{error} (pass --api-key or set TASKGATE_API_KEY)"
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, err = rendering.console(), rendering.console(stderr=True)
    run: Command = args.run
    try:
        with TaskgateClient(args.url, api_key=args.api_key, task_timeout=args.task_timeout) as client:
            return run(client, args, out, err)
    except TaskgateError as error:
        err.print(f"taskgate: error: {_explain(error)}", markup=False)
        return _exit_code(error)
    except KeyboardInterrupt:
        err.print("taskgate: interrupted")
        return INTERRUPTED
