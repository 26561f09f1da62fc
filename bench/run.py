"""One benchmark run: the stacks each group of scenarios needs, started and stopped in order.

The raw-Celery baseline runs first, on a worker nothing else loads yet; the api's scenarios follow on
the same worker configuration. The long-job scenarios come next: they leave thousands of jobs queued,
which are purged, and the vhost goes with everything in it at the end. The queue-type comparison runs
last, each type on a vhost and a worker of its own.
"""

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis import Redis

from bench import infra
from bench.baseline import Drain, producer
from bench.scenarios import delay_zero, long_jobs, queue_types, raw_celery, sleep_jobs
from bench.services import service_env, start_api, start_worker
from bench.stats import Latency
from bench.targets import Scenario
from bench.tracing import LABEL, Traced
from taskgate_contracts.builtin import PROCESS
from testkit.infrastructure import temporary_vhost
from testkit.processes import Service, wait_ready

GROUPS = ("delay0", "sleep", "long", "quorum")
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


def run(groups: set[str], logs: Path, traced: bool = False) -> Results:
    """The groups' scenarios; with `traced`, the delay-0 ones once more on a traced api and worker."""
    results = Results()
    with infra.reserved_redis() as redis, temporary_vhost() as vhost, ExitStack() as running:
        worker_env = service_env(vhost, task_time_limit=_WORKER_TIME_LIMIT)
        app = producer(vhost)
        running.callback(app.close)
        startup, worker = raw_celery.first_task(app, worker_env, logs)
        running.callback(worker.stop)
        results.scenarios.append(startup)
        base, latency, drain = raw_celery.measure(app)
        results.scenarios.append(base)
        results.baseline = {"latency_ms": base.raw["latency_ms"], "tasks_per_second": drain.per_second}
        if groups & {"delay0", "sleep"}:
            api = start_api("api", service_env(vhost, task_timeout=_PATIENT_TIMEOUT), logs)
            running.callback(api.stop)
            wait_ready(api, worker)
            if "delay0" in groups:
                _delay_zero(api, latency, drain, results)
            worker.stop()
            if traced and "delay0" in groups:
                _delay_zero_traced(vhost, worker_env, logs, latency, drain, results)
            if "sleep" in groups:
                results.scenarios += [
                    sleep_jobs.measure(api, worker_env, logs, concurrency)
                    for concurrency in sleep_jobs.CONCURRENCIES
                ]
            api.stop()
        if "long" in groups:
            results.scenarios += _long_jobs(vhost, worker_env, logs, redis, running)
        if "quorum" in groups:
            worker.stop()  # each queue type gets a worker and a vhost of its own
            results.scenarios += queue_types.measure(logs)
    return results


def _delay_zero(api: Service, latency: Latency, drain: Drain, results: Results) -> None:
    scenario, point = delay_zero.sequential(api.url, latency)
    results.scenarios.append(scenario)
    results.curve.append(point)
    for connections in delay_zero.TARGET_CONNECTIONS:
        scenario, point = delay_zero.under_load(api.url, connections, drain)
        results.scenarios.append(scenario)
        results.curve.append(point)
    results.curve += [
        delay_zero.curve_point(api.url, connections) for connections in delay_zero.CURVE_CONNECTIONS
    ]
    results.curve.sort(key=lambda point: int(point["clients"]))


def _delay_zero_traced(
    vhost: str, worker_env: dict[str, str], logs: Path, latency: Latency, drain: Drain, results: Results
) -> None:
    """The delay-0 scenarios with the api and the worker tracing every request and task, held to the same
    targets and baseline; their names say so. No points of the curve: the plot is of the untraced api."""
    with Traced() as traced:
        worker = start_worker({**worker_env, **traced.environment}, logs, concurrency=1)
        api_env = {**service_env(vhost, task_timeout=_PATIENT_TIMEOUT), **traced.environment}
        api = start_api("api-traced", api_env, logs)
        try:
            wait_ready(api, worker)
            scenarios = [delay_zero.sequential(api.url, latency)[0]]
            scenarios += [
                delay_zero.under_load(api.url, connections, drain)[0]
                for connections in delay_zero.TARGET_CONNECTIONS
            ]
        finally:
            api.stop()
            worker.stop()
        for scenario in scenarios:
            scenario.name = f"{scenario.name}, {LABEL}"
        scenarios[-1].add(traced.exported())
        results.scenarios += scenarios


def _long_jobs(
    vhost: str, worker_env: dict[str, str], logs: Path, redis: Redis, running: ExitStack
) -> list[Scenario]:
    worker = start_worker(worker_env, logs, concurrency=1)
    running.callback(worker.stop)
    api = start_api("api-pending", service_env(vhost, task_timeout=long_jobs.TASK_TIMEOUT), logs)
    running.callback(api.stop)
    wait_ready(api, worker)
    burst = long_jobs.burst(api, redis)
    infra.purge_queue(vhost, PROCESS.queue)
    sustained = long_jobs.sustained(api)
    infra.purge_queue(vhost, PROCESS.queue)
    return [burst, sustained]
