"""`taskgate-worker` (and `python -m taskgate_worker`): run the Celery worker in this process."""

import argparse
from collections.abc import Sequence

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    # Imported only now: building the app reads the settings, and `--help` should not need them.
    from taskgate_worker.app import app

    app.worker_main(worker_argv(args))


def worker_argv(args: argparse.Namespace) -> list[str]:
    """The `celery worker` command line for the parsed options; events always on, for Flower."""
    argv = ["worker", "--task-events", f"--loglevel={args.loglevel}"]
    if args.concurrency is not None:
        argv.append(f"--concurrency={args.concurrency}")
    if args.hostname is not None:
        argv.append(f"--hostname={args.hostname}")
    return argv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskgate-worker",
        description="Run the taskgate Celery worker. Settings come from the environment and .env.",
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, help="worker processes (overrides WORKER_CONCURRENCY)"
    )
    parser.add_argument("--loglevel", type=str.lower, choices=_LOG_LEVELS, default="info")
    parser.add_argument("--hostname", help="node name, e.g. worker1@%%h (default: celery@<host>)")
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
