"""What tracing costs: the delay-0 scenarios on an api and a worker with tracing off, then on.

Tracing on, the services export every request's and task's spans with OTLP/HTTP to a receiver in the
bench's own process (bench/tracing.py), with the SDK's default batching, as a deployment would. Each
setting gets a fresh worker and api on the same vhost, the same load and the same length, one after the
other; the traced figures are held to ratios of the untraced ones.
"""

from pathlib import Path

from bench import client, wrk
from bench.cpu import CpuMeter
from bench.services import service_env, start_api, start_worker
from bench.stats import Latency
from bench.targets import Scenario, at_least, at_most, equal, reported
from bench.tracing import LABEL, Traced
from testkit.processes import wait_ready

SEQUENTIAL_REQUESTS = 500
WARMUP_REQUESTS = 50
CONNECTIONS = 50
SECONDS = 15
THROUGHPUT_SHARE = 0.8
ADDED_P50_MS = 1.0
_PATIENT_TIMEOUT = 30


def measure(vhost: str, worker_env: dict[str, str], logs: Path) -> list[Scenario]:
    off = _measured("tracing off", vhost, worker_env, logs, {})
    with Traced() as traced:
        on = _measured(LABEL, vhost, worker_env, logs, traced.environment)
        spans = traced.exported()
    (off_latency, off_run), (on_latency, on_run) = off[1:], on[1:]
    on[0].add(
        at_least(
            f"throughput, {CONNECTIONS} connections",
            on_run.per_second,
            THROUGHPUT_SHARE * off_run.per_second,
            "req/s",
            f"{THROUGHPUT_SHARE:g} × {off_run.per_second:.0f}/s off",
        ),
        at_most(
            "p50, one client",
            on_latency.p50,
            off_latency.p50 + ADDED_P50_MS,
            "ms",
            f"{off_latency.p50:.2f} ms off + {ADDED_P50_MS:g} ms",
        ),
        spans,
    )
    return [off[0], on[0]]


def _measured(
    label: str, vhost: str, worker_env: dict[str, str], logs: Path, tracing: dict[str, str]
) -> tuple[Scenario, Latency, wrk.WrkRun]:
    worker = start_worker({**worker_env, **tracing}, logs, concurrency=1)
    api_env = {**service_env(vhost, task_timeout=_PATIENT_TIMEOUT), **tracing}
    api = start_api(f"api-{'traced' if tracing else 'untraced'}", api_env, logs)
    try:
        wait_ready(api, worker)
        request = client.post_request(api.url, "/process", {"delay": 0})
        with CpuMeter(api, [worker]) as meter:
            answers = client.drive(client.sequential(api.url, request, SEQUENTIAL_REQUESTS, WARMUP_REQUESTS))
            run = wrk.run(f"{api.url}/process", CONNECTIONS, SECONDS, delay=0, timeout=_PATIENT_TIMEOUT)
    finally:
        api.stop()
        worker.stop()
    latency = Latency.of_seconds([answer.latency for answer in answers])
    scenario = Scenario(
        f"delay 0, {label}: one client ({SEQUENTIAL_REQUESTS} sequential), "
        f"then {CONNECTIONS} connections (wrk), {SECONDS} s"
    )
    count = WARMUP_REQUESTS + len(answers) + run.requests
    scenario.add(
        reported("p50, one client", latency.p50, "ms"),
        reported(f"throughput, {CONNECTIONS} connections", run.per_second, "req/s"),
        equal("errors", run.errors, 0, ""),
        *meter.figures(count, count),
    )
    scenario.raw = {"latency_ms": latency.p50, "per_second": run.per_second, "requests": run.requests}
    return scenario, latency, run
