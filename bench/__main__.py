"""`python -m bench`: run the scenarios, print the table, write the JSON and the plot.

Exits 1 naming every missed target, 2 when the run could not be made.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench import infra, plot, report, wrk
from bench.run import GROUPS, run

ROOT = Path(__file__).resolve().parent.parent
#: Ten thousand connections at once: the client holds a descriptor per connection, and so does the api.
_FILES_NEEDED = 12_000
_LOG_WIDTH = 160


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        help="run only this group of scenarios (repeatable); the raw-Celery baseline always runs",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the api with py-spy during the SSE fan-out; the summary goes in the JSON",
    )
    parser.add_argument(
        "--results", type=Path, default=ROOT / "bench" / "results", help="where the JSON goes"
    )
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "images" / "bench.png", help="the PNG")
    parser.add_argument(
        "--doc", type=Path, default=ROOT / "docs" / "performance.md", help="the page that shows the last run"
    )
    args = parser.parse_args(argv)
    groups = list(args.only or GROUPS)
    console = Console()
    if not console.is_terminal:
        console.width = _LOG_WIDTH  # rich would wrap the table at 80 columns in a CI log
    try:
        _raise_file_limit()
        wrk.wrk_path()
    except RuntimeError as exc:
        console.print(f"[red]cannot run the benchmark: {exc}[/red]")
        return 2
    problem = infra.unreachable()
    if problem is not None:
        console.print(f"[red]cannot run the benchmark: {problem}[/red]")
        return 2

    logs = Path(tempfile.mkdtemp(prefix="taskgate-bench-"))
    console.print(f"service logs: {logs}")
    started, clock, load = datetime.now(UTC), time.perf_counter(), os.getloadavg()
    try:
        results = run(set(groups), logs, profile=args.profile)
    except RuntimeError as exc:  # a service that did not start or died, with the end of its log
        console.print(f"[red]a service failed: {exc}[/red]")
        return 2
    doc = report.document(results, started, time.perf_counter() - clock, groups, load, ROOT)
    report.print_table(results, console)
    complete = set(groups) == set(GROUPS)
    console.print(f"results: {report.write(doc, args.results, latest=complete)}")
    if complete:
        plot.draw(doc, args.plot)
        report.update_doc(doc, args.doc)
        console.print(f"plot: {args.plot}; table: {args.doc}")
    for line in doc["missed"]:
        print(f"MISSED: {line}", file=sys.stderr)
    return 1 if doc["missed"] else 0


def _raise_file_limit() -> None:
    """Lift the soft descriptor limit to the hard one; every service the bench starts inherits it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < _FILES_NEEDED:
        raise RuntimeError(
            f"the hard limit on open files is {hard}; 10,000 connections need {_FILES_NEEDED}: "
            "raise `ulimit -Hn`"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    sys.exit(main())
