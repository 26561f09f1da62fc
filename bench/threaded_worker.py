"""`python -m bench.threaded_worker TYPES CONCURRENCY HOSTNAME`: taskgate's worker on Celery's thread pool.

The fan-out scenario needs 500 `process` jobs running at once, each sleeping and reporting progress every
half second. `taskgate-worker` runs Celery's prefork pool — a process per running job, about 70 MB each,
35 GB for 500 — and keeps it because only a process can be stopped at its hard time limit. Jobs that
sleep are carried as well by threads, so this runs the worker's own app (`configured`: the same settings,
hosted types, handlers, progress path and task events) on `--pool threads` instead. What the scenario
measures is the api's fan-out to the followers; the worker only has to report on time.
"""

import sys

from taskgate_worker.factory import configured


def main(argv: list[str]) -> None:
    types, concurrency, hostname = argv
    app, _ = configured(worker_tasks=types)
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={int(concurrency)}",
            "--task-events",
            "--loglevel=warning",
            f"--hostname={hostname}",
        ]
    )


if __name__ == "__main__":
    main(sys.argv[1:])
