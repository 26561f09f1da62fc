"""Thousands of clients waiting at once on jobs longer than TASK_TIMEOUT: every one must get its
`pending` on time, and the api must let go of everything it held for them afterwards."""

import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from redis import Redis

from bench import client, wrk
from bench.infra import Subscriptions, subscriptions
from bench.services import API_PROCESSES, api_metric, open_files, peak_rss
from bench.stats import Latency
from bench.targets import Figure, Scenario, at_most, equal, reported, within
from taskgate_api.config import ApiSettings
from testkit.processes import Service

TASK_TIMEOUT = 5
#: Longer than TASK_TIMEOUT and than the scenarios: no job ends while they run.
JOB_SECONDS = 60
BURST_REQUESTS = 10_000
SUSTAINED_CONNECTIONS = 5_000
SUSTAINED_SECONDS = 20
#: The api's resident memory, all its processes together, while the burst waits.
RSS_LIMIT_MB = 600
#: Descriptors the api may hold after the burst beyond those it held before: each api process talks to
#: Redis and RabbitMQ for at most SUBMIT_CONCURRENCY submissions at once, and its pools may keep the
#: connections that took; one descriptor left per request would be thousands.
FILES_SLACK = API_PROCESSES * int(ApiSettings.model_fields["submit_concurrency"].default)
#: The api's gauge of tasks somebody in the process waits for (its result hub's listeners).
WAITING_METRIC = "taskgate_waiting_tasks"
#: How long the api gets to let go of what the burst held once every answer is in.
_SETTLE_SECONDS = 5.0
_MB = 1024 * 1024


def burst(api: Service, redis: Redis) -> Scenario:
    """BURST_REQUESTS requests sent at once on connections opened beforehand."""
    subscribed_before = subscriptions(redis, api.process.pid)
    waiting_before = api_metric(api, WAITING_METRIC)
    files_before = open_files(api)
    request = client.post_request(api.url, "/process", {"delay": JOB_SECONDS})
    with peak_rss(api) as peak:
        idle = peak[0]
        answers = client.drive(client.burst(api.url, request, BURST_REQUESTS))
        waiting_after = _settled_waiting(api, waiting_before)
    subscribed_after = subscriptions(redis, api.process.pid)
    pending = [answer for answer in answers if answer.body.get("status") == "pending"]
    times = [float(answer.body["time"]) for answer in pending] or [0.0]
    seen = Latency.of_seconds([answer.latency for answer in answers])
    scenario = Scenario(
        f"burst: {BURST_REQUESTS} requests at once, {JOB_SECONDS} s jobs, TASK_TIMEOUT {TASK_TIMEOUT}"
    )
    scenario.add(
        equal("answers `pending`", len(pending), BURST_REQUESTS, ""),
        within("`time` in the answers", min(times), max(times), TASK_TIMEOUT, 0.25, "s"),
        at_most(
            "answer seen by the client, max", seen.max / 1000, TASK_TIMEOUT + 1, "s", "TASK_TIMEOUT + 1 s"
        ),
        at_most("api peak RSS, all processes", peak[0] / _MB, RSS_LIMIT_MB, "MB"),
        reported("api RSS growth per request sent", (peak[0] - idle) / BURST_REQUESTS / 1024, "KB"),
        *_released(subscribed_before, subscribed_after),
        _waiting_released(waiting_before, waiting_after),
        at_most(
            "api open files, after − before",
            open_files(api) - files_before,
            FILES_SLACK,
            "",
            "the pools' connections: SUBMIT_CONCURRENCY per api process",
        ),
    )
    scenario.raw = {
        "statuses": _count_statuses(answers),
        "failure_bodies": _failure_bodies(answers),
        "time_s": {"min": min(times), "max": max(times)},
        "seen_by_client_ms": asdict(seen),
        "api_idle_rss_mb": idle / _MB,
        "api_peak_rss_mb": peak[0] / _MB,
        "subscriptions_before": asdict(subscribed_before),
        "subscriptions_after": asdict(subscribed_after),
        "waiting_before": waiting_before,
        "waiting_after": waiting_after,
    }
    scenario.answers = len(answers)
    return scenario


def sustained(api: Service) -> Scenario:
    """wrk on SUSTAINED_CONNECTIONS connections for SUSTAINED_SECONDS, each answered after TASK_TIMEOUT."""
    overflows_before = listen_overflows()
    with peak_rss(api) as peak:
        run = wrk.run(
            f"{api.url}/process",
            SUSTAINED_CONNECTIONS,
            SUSTAINED_SECONDS,
            JOB_SECONDS,
            timeout=4 * TASK_TIMEOUT,
        )
    scenario = Scenario(
        f"sustained: {SUSTAINED_CONNECTIONS} connections (wrk) on such jobs, {SUSTAINED_SECONDS} s"
    )
    scenario.add(
        at_most("p99", run.latency.p99 / 1000, TASK_TIMEOUT + 1, "s", "TASK_TIMEOUT + 1 s"),
        equal("errors", run.errors, 0, ""),
        reported("answers", run.per_second, "req/s"),
        reported("api peak RSS", peak[0] / _MB, "MB"),
        reported("connections dropped by a full listen queue", listen_overflows() - overflows_before, ""),
    )
    scenario.raw = {
        "requests": run.requests,
        "seconds": run.seconds,
        "latency_ms": asdict(run.latency),
        "failures": run.failures,
        "statuses": run.statuses,
        "failure_bodies": run.failure_bodies,
        "api_peak_rss_mb": peak[0] / _MB,
    }
    scenario.answers = run.requests
    return scenario


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows).

    wrk opens all its connections at once; beyond the api's listen backlog the kernel drops them and the
    client retries a second or more later, so this says whether the api's backlog is deep enough.
    """
    names, values = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()[:2]]
    return int(dict(zip(names, values, strict=True))["ListenOverflows"])


def _settled_waiting(api: Service, baseline: float | None) -> float | None:
    """The api's waiting gauge once it is back to `baseline`, or as it is after _SETTLE_SECONDS."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    waiting = api_metric(api, WAITING_METRIC)
    while waiting != baseline and time.monotonic() < deadline:
        time.sleep(0.1)
        waiting = api_metric(api, WAITING_METRIC)
    return waiting


def _released(before: Subscriptions, after: Subscriptions) -> list[Figure]:
    return [
        equal("api Redis channel subscriptions after", after.process_channels, before.process_channels, ""),
        equal("api Redis pattern subscriptions after", after.process_patterns, before.process_patterns, ""),
        reported("server PUBSUB NUMPAT, after − before", after.server_patterns - before.server_patterns, ""),
    ]


def _waiting_released(before: float | None, after: float | None) -> Figure:
    if before is None or after is None:
        # The figure the issue asks for cannot be shown without the gauge: that is a miss, not a pass.
        return Figure(f"api waiting tasks after ({WAITING_METRIC})", None, "", "exposed on /metrics", False)
    return equal(f"api waiting tasks after ({WAITING_METRIC})", after, before, "")


def _count_statuses(answers: list[client.Answer]) -> dict[str, int]:
    return dict(Counter(str(answer.status) for answer in answers))


def _failure_bodies(answers: list[client.Answer]) -> dict[str, dict[str, object]]:
    """The first body of each failing status (0: no answer at all): why those requests failed."""
    bodies: dict[str, dict[str, object]] = {}
    for answer in answers:
        if not 200 <= answer.status < 400:
            bodies.setdefault(str(answer.status), answer.body)
    return bodies
