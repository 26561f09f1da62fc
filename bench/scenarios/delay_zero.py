"""Delay-0 jobs: what the api adds to a job, alone and under load, against the raw-Celery baseline."""

from dataclasses import asdict
from typing import Any

from bench import client, wrk
from bench.baseline import Drain
from bench.stats import Latency
from bench.targets import Scenario, at_least, at_most, equal

SEQUENTIAL_REQUESTS = 500
WARMUP_REQUESTS = 50
#: The table's connection counts, and the extra points that complete the curve of the plot.
TARGET_CONNECTIONS = (50, 200)
CURVE_CONNECTIONS = (10, 100, 500)
TARGET_SECONDS = 15
CURVE_SECONDS = 8
#: The api's throughput under load, as a share of the raw-Celery baseline's on the same worker.
THROUGHPUT_SHARE = 0.9
#: What the api may add to one client's median round trip over the baseline's, in milliseconds.
ADDED_P50_MS = 1.5
#: How long wrk waits for one delay-0 answer before it counts a timeout.
_ANSWER_TIMEOUT = 30


def sequential(api_url: str, baseline: Latency) -> tuple[Scenario, dict[str, Any]]:
    """One client, one request at a time; returns the scenario and its point of the curve."""
    request = client.post_request(api_url, "/process", {"delay": 0})
    answers = client.drive(client.sequential(api_url, request, SEQUENTIAL_REQUESTS, WARMUP_REQUESTS))
    latency = Latency.of_seconds([answer.latency for answer in answers])
    seconds = answers[-1].answered_at - answers[0].sent_at
    not_completed = sum(1 for answer in answers if answer.body.get("status") != "completed")
    scenario = Scenario(f"delay 0, one client, {SEQUENTIAL_REQUESTS} sequential requests")
    scenario.add(
        at_most(
            "p50",
            latency.p50,
            baseline.p50 + ADDED_P50_MS,
            "ms",
            f"baseline p50 {baseline.p50:.2f} ms + {ADDED_P50_MS:g} ms",
        ),
        at_most("p99", latency.p99, 10, "ms"),
        equal("answers not `completed`", not_completed, 0, ""),
    )
    scenario.raw = {"latency_ms": asdict(latency)}
    scenario.answers = scenario.tasks = WARMUP_REQUESTS + len(answers)
    return scenario, _point(1, len(answers) / seconds, latency)


def under_load(
    api_url: str, connections: int, drain: Drain, setting: str = ""
) -> tuple[Scenario, dict[str, Any]]:
    """wrk on `connections` connections for TARGET_SECONDS, held to the table's targets; `setting` names
    what differs from the default worker (`WORKER_CONCURRENCY 2`), and the baseline is that worker's."""
    run = _wrk(api_url, connections, TARGET_SECONDS)
    floor = THROUGHPUT_SHARE * drain.per_second
    why = f"{THROUGHPUT_SHARE:g} × baseline {drain.per_second:.0f}/s"
    scenario = Scenario(
        f"delay 0, {setting + ', ' if setting else ''}{connections} connections (wrk), {TARGET_SECONDS} s"
    )
    scenario.add(
        at_least("throughput", run.per_second, floor, "req/s", why),
        at_most("p99", run.latency.p99, 1.5 * run.latency.p50, "ms", "1.5 × p50"),
        equal("errors", run.errors, 0, ""),
    )
    scenario.raw = _raw(run)
    scenario.answers = scenario.tasks = run.requests
    return scenario, _point(connections, run.per_second, run.latency)


def curve_point(api_url: str, connections: int) -> dict[str, Any]:
    """A point of the plot's curve between the table's, with no target of its own."""
    run = _wrk(api_url, connections, CURVE_SECONDS)
    return {**_point(connections, run.per_second, run.latency), "errors": run.errors}


def _wrk(api_url: str, connections: int, seconds: float) -> wrk.WrkRun:
    return wrk.run(f"{api_url}/process", connections, seconds, delay=0, timeout=_ANSWER_TIMEOUT)


def _point(clients: int, per_second: float, latency: Latency) -> dict[str, Any]:
    return {"clients": clients, "per_second": per_second, "latency_ms": asdict(latency)}


def _raw(run: wrk.WrkRun) -> dict[str, Any]:
    return {
        "connections": run.connections,
        "requests": run.requests,
        "seconds": run.seconds,
        "per_second": run.per_second,
        "latency_ms": asdict(run.latency),
        "failures": run.failures,
        "statuses": run.statuses,
        "failure_bodies": run.failure_bodies,
    }
