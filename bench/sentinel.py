"""`python -m bench.sentinel`: what finding Redis through Sentinel costs the api's delay-0 path.

The same api and worker run on the same Redis — a master of the bench's own with a replica and three
sentinels (the chaos scenario's servers) — once reaching the master at its address (REDIS_URL), once
through the sentinels (REDIS_SENTINELS), alternately, ROUNDS times each: one client sending
SEQUENTIAL_REQUESTS one after the other (latency), then wrk on LOAD_CONNECTIONS connections for
LOAD_SECONDS (throughput). Beside that, the api's own Redis client alone, both ways: a command on an open
connection, and a new connection (where Sentinel is asked for the master). It prints the figures and
writes bench/results/sentinel-<time>.json.
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import client, infra, wrk
from bench.services import API_PROCESSES, start_api, start_worker
from bench.stats import Latency
from taskgate_api.config import ApiSettings
from taskgate_api.redis_clients import connect
from testkit.infrastructure import HOST, temporary_vhost
from testkit.processes import settings_env, wait_ready
from testkit.servers import OwnSentinels

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
SEQUENTIAL_REQUESTS = 500
WARMUP_REQUESTS = 50
LOAD_CONNECTIONS = 50
LOAD_SECONDS = 10.0
WORKER_CONCURRENCY = 2
#: Commands timed on an open connection, and new connections timed, per client kind, in batches.
COMMANDS = 40_000
CONNECTIONS = 400
BATCHES = 20


def measure(mode: str, redis: dict[str, str], vhost: str, logs: Path) -> dict[str, Any]:
    """One round of `mode`: a fresh worker and api on `redis`'s settings, then the two loads."""
    env = settings_env(vhost, result_expires=600, task_timeout=30, **redis)
    worker = start_worker(env, logs, concurrency=WORKER_CONCURRENCY)
    try:
        api = start_api(f"api-{mode}", env, logs)
        try:
            wait_ready(api, worker)
            request = client.post_request(api.url, "/process", {"delay": 0})
            answers = client.drive(client.sequential(api.url, request, SEQUENTIAL_REQUESTS, WARMUP_REQUESTS))
            failed = sum(1 for answer in answers if answer.body.get("status") != "completed")
            sequential = Latency.of_seconds([answer.latency for answer in answers])
            load = wrk.run(f"{api.url}/process", LOAD_CONNECTIONS, LOAD_SECONDS, delay=0, timeout=30)
        finally:
            api.stop()
    finally:
        worker.stop()
    return {
        "mode": mode,
        "sequential_ms": asdict(sequential),
        "not_completed": failed,
        "load": {"per_second": load.per_second, "latency_ms": asdict(load.latency), "errors": load.errors},
    }


async def client_costs(modes: dict[str, dict[str, str]]) -> dict[str, dict[str, float]]:
    """Per mode, microseconds of a GET on an open connection of the api's command client, and of a new
    connection (opened and pinged, as a pool does after a reconnect): medians of BATCHES batches, the
    modes taking turns, so a machine busy with something else weighs on both alike."""
    settings = {mode: ApiSettings(_env_file=None, **redis) for mode, redis in modes.items()}  # type: ignore[arg-type]
    clients = {mode: connect(each) for mode, each in settings.items()}
    commands: dict[str, list[float]] = {mode: [] for mode in modes}
    connections: dict[str, list[float]] = {mode: [] for mode in modes}
    try:
        for mode in modes:
            await clients[mode].commands.ping()
        for _ in range(BATCHES):
            for mode in modes:
                began = time.perf_counter()
                for _ in range(COMMANDS // BATCHES):
                    await clients[mode].commands.get("taskgate-bench:absent")
                commands[mode].append((time.perf_counter() - began) / (COMMANDS // BATCHES))
                for _ in range(CONNECTIONS // BATCHES):
                    fresh = connect(settings[mode])
                    began = time.perf_counter()
                    await fresh.commands.ping()
                    connections[mode].append(time.perf_counter() - began)
                    await fresh.aclose()
    finally:
        for each in clients.values():
            await each.aclose()
    return {
        mode: {
            "command_us": statistics.median(commands[mode]) * 1e6,
            "new_connection_us": statistics.median(connections[mode]) * 1e6,
        }
        for mode in modes
    }


def run(logs: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    rounds = []
    with temporary_vhost() as vhost, tempfile.TemporaryDirectory(prefix="taskgate-sentinel-") as folder:
        group = OwnSentinels(Path(folder))
        group.start()
        try:
            modes = {
                "plain URL": {"redis_url": f"redis://{HOST}:{group.master.port}/0"},
                "Sentinel": group.settings,
            }
            costs = asyncio.run(client_costs(modes))
            for _ in range(ROUNDS):
                rounds += [measure(mode, redis, vhost, logs) for mode, redis in modes.items()]
        finally:
            group.stop()
    return rounds, costs


def summary(rounds: list[dict[str, Any]]) -> Table:
    table = Table(title=f"delay 0 through the api ({API_PROCESSES} api processes), plain URL vs Sentinel")
    for column in (
        "Redis found by",
        "sequential p50 ms",
        "p99 ms",
        f"wrk {LOAD_CONNECTIONS} conns req/s",
        "wrk p50 ms",
        "wrk p99 ms",
        "errors",
    ):
        table.add_column(column, justify="right")
    for result in rounds:
        sequential, load = result["sequential_ms"], result["load"]
        table.add_row(
            result["mode"],
            f"{sequential['p50']:.2f}",
            f"{sequential['p99']:.2f}",
            f"{load['per_second']:.0f}",
            f"{load['latency_ms']['p50']:.1f}",
            f"{load['latency_ms']['p99']:.1f}",
            str(load["errors"] + result["not_completed"]),
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sentinel", description=__doc__)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    console = Console()
    problem = infra.unreachable()
    if problem is not None:
        console.print(f"[red]cannot run the benchmark: {problem}[/red]")
        return 2
    wrk.wrk_path()
    logs = Path(tempfile.mkdtemp(prefix="taskgate-bench-"))
    console.print(f"service logs: {logs}")
    started, load = datetime.now(UTC), os.getloadavg()
    rounds, costs = run(logs)
    console.print(summary(rounds))
    for mode, cost in costs.items():
        console.print(
            f"the api's Redis client, {mode}: GET on an open connection {cost['command_us']:.0f} µs, "
            f"a new connection {cost['new_connection_us']:.0f} µs (medians of {BATCHES} batches)"
        )
    path = args.results / f"sentinel-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    document = {
        "started": started.isoformat(),
        "load_average": {"start": load, "end": os.getloadavg()},
        "rounds": rounds,
        "client": costs,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
