"""`taskgate-worker` (and `python -m taskgate_worker`): run the Celery worker in this process."""

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from taskgate_worker.version import __version__

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
#: The shells `--show-completion` writes a script for, as every taskgate command does.
_SHELLS = ("bash", "zsh", "fish", "powershell")


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer and exit
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    # Imported only now: building the app reads the settings, and `--help` should not need them.
    from taskgate_worker.factory import configured

    app, hosting = configured(**hosting_overrides(args))
    app.worker_main(worker_argv(args, hosting.node_name()))


def hosting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings `--tasks` and `--queues` override (WORKER_TASKS, WORKER_QUEUES)."""
    overrides: dict[str, Any] = {}
    if args.tasks is not None:
        overrides["worker_tasks"] = args.tasks
    if args.queues is not None:
        overrides["worker_queues"] = args.queues
    return overrides


def worker_argv(args: argparse.Namespace, node_name: str) -> list[str]:
    """The `celery worker` command line for the parsed options; events always on, for Flower."""
    argv = ["worker", "--task-events", f"--loglevel={args.log_level}"]
    if args.concurrency is not None:
        argv.append(f"--concurrency={args.concurrency}")
    argv.append(f"--hostname={node_name if args.hostname is None else args.hostname}")
    return argv


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A wrong option stops the worker with one line and exit code 2, as a wrong setting does."""
        self.exit(2, f"{self.prog}: error: {message}\n")


class _PrintCompletion(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: object, shell: Any, _: Any = None) -> None:
        # Imported only to write the script, and when the shell asks for completions.
        from argcomplete.shell_integration import shellcode

        shell = shell or Path(os.environ.get("SHELL", "")).name
        if shell not in _SHELLS:
            parser.error(f"--show-completion: name the shell, one of {', '.join(_SHELLS)}")
        print(shellcode([parser.prog], shell=shell), end="")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="taskgate-worker",
        description="Run the taskgate Celery worker. Settings come from the environment and .env.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--show-completion",
        action=_PrintCompletion,
        nargs="?",
        choices=_SHELLS,
        metavar="SHELL",
        help="print the script that completes this command's options in SHELL "
        f"({', '.join(_SHELLS)}) and exit",
    )
    parser.add_argument(
        "--tasks", metavar="TYPE,...", help="host only these task types (overrides WORKER_TASKS)"
    )
    parser.add_argument(
        "--queues", metavar="QUEUE,...", help="host the task types of these queues (overrides WORKER_QUEUES)"
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, help="worker processes (overrides WORKER_CONCURRENCY)"
    )
    parser.add_argument(
        "--log-level", type=str.lower, choices=_LOG_LEVELS, default="info", help="(default: info)"
    )
    # The spelling of releases before 0.3 (Celery's own), still taken but no longer shown.
    parser.add_argument(
        "--loglevel", dest="log_level", type=str.lower, choices=_LOG_LEVELS, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--hostname", help="node name, e.g. worker1@%%h (default: taskgate-<all or the types>-<pid>@<host>)"
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


if __name__ == "__main__":
    main()
