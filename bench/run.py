"""One benchmark run: the stacks each group of scenarios needs, started and stopped in order.

The raw-Celery baseline runs first, on a worker nothing else loads yet; the api's scenarios follow on
the same worker configuration, and the two task types beside it. WORKER_CONCURRENCY 2 gets a baseline
of its own on a fresh worker, then the api on it. Tracing is compared on fresh services of its own. The
long-job scenarios come next: they leave thousands of jobs queued, which are purged; then the live
followers on a worker that runs hundreds of jobs at once. The vhost goes with everything in it at the
end. The queue-type comparison runs last, each type on a vhost and a worker of its own.

Each scenario's figures end with where its CPU went (bench/cpu.py).
"""

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery
from redis import Redis

from bench import infra, profiling
from bench.baseline import Drain, producer
from bench.cpu import CpuMeter
from bench.scenarios import (
    delay_zero,
    fanout,
    long_jobs,
    queue_types,
    raw_celery,
    sleep_jobs,
    task_types,
    tracing_cost,
)
from bench.services import service_env, start_api, start_threaded_worker, start_worker
from bench.stats import Latency
from bench.targets import Scenario
from taskgate_contracts.builtin import PROCESS
from testkit.infrastructure import temporary_vhost
from testkit.processes import Service, wait_ready

GROUPS = ("delay0", "types", "concurrency", "tracing", "sleep", "long", "fanout", "quorum")
#: The worker processes of the WORKER_CONCURRENCY scenario (the others run one).
CONCURRENCY = 2
#: The api's TASK_TIMEOUT for delay-0 and sleep jobs: far above what they take.
_PATIENT_TIMEOUT = 30
#: The worker's soft time limit: above every job the bench sends, so none fails while measured.
_WORKER_TIME_LIMIT = 2 * long_jobs.JOB_SECONDS


@dataclass
class Results:
    scenarios: list[Scenario] = field(default_factory=list)
    #: delay-0 points of the plot: clients, requests per second, latency percentiles.
    curve: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)


def run(groups: set[str], logs: Path, profile: bool = False) -> Results:
    """The groups' scenarios, in the order of GROUPS; with `profile`, the api sampled with py-spy during
    the fan-out (the scenario that costs it the most)."""
    results = Results()
    with infra.reserved_redis() as redis, temporary_vhost() as vhost, ExitStack() as running:
        worker_env = service_env(vhost, task_time_limit=_WORKER_TIME_LIMIT)
        app = producer(vhost)
        running.callback(app.close)
        startup, worker = raw_celery.first_task(app, worker_env, logs)
        running.callback(worker.stop)
        results.scenarios.append(startup)
        with CpuMeter(None, [worker]) as meter:
            base, latency, drain = raw_celery.measure(app)
        base.add(*meter.figures(0, base.tasks))
        results.scenarios.append(base)
        results.baseline = {"latency_ms": base.raw["latency_ms"], "tasks_per_second": drain.per_second}
        if groups & {"delay0", "types", "sleep"}:
            api = start_api("api", service_env(vhost, task_timeout=_PATIENT_TIMEOUT), logs)
            running.callback(api.stop)
            wait_ready(api, worker)
            if "delay0" in groups:
                _delay_zero(api, worker, latency, drain, results)
            if "types" in groups:
                results.scenarios += task_types.measure(api, worker, worker_env, logs)
            worker.stop()
            if "sleep" in groups:
                results.scenarios += [
                    sleep_jobs.measure(api, worker_env, logs, concurrency)
                    for concurrency in sleep_jobs.CONCURRENCIES
                ]
            api.stop()
        worker.stop()
        if "concurrency" in groups:
            results.scenarios += _concurrency(app, vhost, worker_env, logs)
        if "tracing" in groups:
            results.scenarios += tracing_cost.measure(vhost, worker_env, logs)
        if "long" in groups:
            results.scenarios += _long_jobs(vhost, worker_env, logs, redis, running)
        if "fanout" in groups:
            results.scenarios.append(_fanout(vhost, worker_env, logs, redis, profile))
        if "quorum" in groups:
            results.scenarios += queue_types.measure(logs)
    return results


def _delay_zero(api: Service, worker: Service, latency: Latency, drain: Drain, results: Results) -> None:
    with CpuMeter(api, [worker]) as meter:
        scenario, point = delay_zero.sequential(api.url, latency)
    scenario.add(*meter.figures(scenario.answers, scenario.tasks))
    results.scenarios.append(scenario)
    results.curve.append(point)
    for connections in delay_zero.TARGET_CONNECTIONS:
        with CpuMeter(api, [worker]) as meter:
            scenario, point = delay_zero.under_load(api.url, connections, drain)
        scenario.add(*meter.figures(scenario.answers, scenario.tasks))
        results.scenarios.append(scenario)
        results.curve.append(point)
    results.curve += [
        delay_zero.curve_point(api.url, connections) for connections in delay_zero.CURVE_CONNECTIONS
    ]
    results.curve.sort(key=lambda point: int(point["clients"]))


def _concurrency(app: Celery, vhost: str, worker_env: dict[str, str], logs: Path) -> list[Scenario]:
    """A worker of CONCURRENCY processes: its own raw-Celery baseline, then the api on it, held to it."""
    setting = f"WORKER_CONCURRENCY {CONCURRENCY}"
    worker = start_worker(worker_env, logs, concurrency=CONCURRENCY)
    api = start_api("api-concurrency", service_env(vhost, task_timeout=_PATIENT_TIMEOUT), logs)
    try:
        wait_ready(api, worker)
        with CpuMeter(None, [worker]) as meter:
            base, _, drain = raw_celery.measure(app, CONCURRENCY)
        base.add(*meter.figures(0, base.tasks))
        scenarios = [base]
        for connections in delay_zero.TARGET_CONNECTIONS:
            with CpuMeter(api, [worker]) as meter:
                scenario, _ = delay_zero.under_load(api.url, connections, drain, setting)
            scenario.add(*meter.figures(scenario.answers, scenario.tasks))
            scenarios.append(scenario)
    finally:
        api.stop()
        worker.stop()
    return scenarios


def _fanout(vhost: str, worker_env: dict[str, str], logs: Path, redis: Redis, profile: bool) -> Scenario:
    worker = start_threaded_worker(worker_env, logs, concurrency=fanout.TASKS)
    api = start_api("api-fanout", service_env(vhost, task_timeout=_PATIENT_TIMEOUT), logs)
    folded = logs / "profile-fanout.txt"
    try:
        wait_ready(api, worker)
        with ExitStack() as sampling, CpuMeter(api, [worker]) as meter:
            if profile:
                sampling.enter_context(profiling.profiled(api, folded))
            scenario = fanout.measure(api, redis)
        scenario.add(*meter.figures(scenario.answers, scenario.tasks))
    finally:
        api.stop()
        worker.stop()
    if profile:
        scenario.raw["profile"] = {"folded": str(folded), **profiling.summary(folded)}
    return scenario


def _long_jobs(
    vhost: str, worker_env: dict[str, str], logs: Path, redis: Redis, running: ExitStack
) -> list[Scenario]:
    worker = start_worker(worker_env, logs, concurrency=1)
    running.callback(worker.stop)
    api = start_api("api-pending", service_env(vhost, task_timeout=long_jobs.TASK_TIMEOUT), logs)
    running.callback(api.stop)
    wait_ready(api, worker)
    scenarios = []
    for sustained in (False, True):
        with CpuMeter(api, [worker]) as meter:
            scenario = long_jobs.sustained(api) if sustained else long_jobs.burst(api, redis)
        scenario.add(*meter.figures(scenario.answers, scenario.tasks))
        scenarios.append(scenario)
        infra.purge_queue(vhost, PROCESS.queue)
    api.stop()
    worker.stop()
    return scenarios
