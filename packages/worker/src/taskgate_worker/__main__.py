"""`taskgate-worker` (and `python -m taskgate_worker`): run the Celery worker in this process."""

import argparse
from collections.abc import Sequence
from typing import Any

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
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
    argv = ["worker", "--task-events", f"--loglevel={args.loglevel}"]
    if args.concurrency is not None:
        argv.append(f"--concurrency={args.concurrency}")
    argv.append(f"--hostname={node_name if args.hostname is None else args.hostname}")
    return argv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskgate-worker",
        description="Run the taskgate Celery worker. Settings come from the environment and .env.",
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
    parser.add_argument("--loglevel", type=str.lower, choices=_LOG_LEVELS, default="info")
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
