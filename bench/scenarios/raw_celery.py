"""The worker on its own, fed by a plain Celery producer: how soon it takes its first task, and the
baseline figures the api's are held against."""

import time
from dataclasses import asdict
from pathlib import Path

from celery import Celery

from bench import baseline
from bench.baseline import Drain
from bench.services import start_worker
from bench.stats import Latency
from bench.targets import Scenario, reported
from testkit.processes import Service

ROUND_TRIPS = 500
WARMUP_ROUND_TRIPS = 50
DRAIN_TASKS = 3_000
_FIRST_TASK_TIMEOUT = 60.0


def first_task(app: Celery, env: dict[str, str], logs: Path) -> tuple[Scenario, Service]:
    """Queue a delay-0 task, then start a worker: the time from its start to that task's result."""
    result = baseline.send(app)
    started = time.perf_counter()
    worker = start_worker(env, logs, concurrency=1)
    try:
        result.get(timeout=_FIRST_TASK_TIMEOUT)
    except BaseException:
        worker.stop()
        raise
    seconds = time.perf_counter() - started
    scenario = Scenario("worker start to first task (WORKER_CONCURRENCY 1)")
    scenario.add(reported("process start to the task's result", seconds, "s"))
    scenario.raw = {"seconds": seconds}
    return scenario, worker


def measure(app: Celery, concurrency: int = 1) -> tuple[Scenario, Latency, Drain]:
    """The baseline: sequential round trips, and the rate at which the worker (of `concurrency`
    processes) drains a full queue."""
    latency = baseline.round_trips(app, ROUND_TRIPS, WARMUP_ROUND_TRIPS)
    drain = baseline.drain(app, DRAIN_TASKS)
    scenario = Scenario(f"baseline: raw Celery producer, same worker (WORKER_CONCURRENCY {concurrency})")
    scenario.add(
        reported(f"round trip p50 ({ROUND_TRIPS} sequential)", latency.p50, "ms"),
        reported("round trip p99", latency.p99, "ms"),
        reported(f"tasks/s ({DRAIN_TASKS} queued at once)", drain.per_second, "tasks/s"),
    )
    scenario.raw = {
        "concurrency": concurrency,
        "latency_ms": asdict(latency),
        "drain": {"tasks": drain.tasks, "seconds": drain.seconds},
    }
    scenario.tasks = WARMUP_ROUND_TRIPS + ROUND_TRIPS + DRAIN_TASKS
    return scenario, latency, drain
