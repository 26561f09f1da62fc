"""The real worker and api as child processes of the bench, as the end-to-end tests run them (the same
`testkit.processes` helpers start, await and stop them by PID), and what the bench reads off them."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import httpx
import psutil

from bench.infra import REDIS_URL
from testkit.infrastructure import HOST
from testkit.processes import Service, free_port, settings_env

_SOURCE_TREE = Path(__file__).resolve().parent.parent


def service_env(vhost: str, **settings: str | float) -> dict[str, str]:
    """The environment of a service: this machine's RabbitMQ, the bench's vhost and Redis database."""
    return settings_env(vhost, redis_url=REDIS_URL, result_expires=3600, **settings)


def start_worker(env: dict[str, str], logs: Path, concurrency: int, tasks: str = "process") -> Service:
    hostname = f"bench-{tasks}-c{concurrency}-{uuid4().hex[:6]}@{HOST}"
    # Each scenario loads one type per worker; hosting it alone keeps the worker's memory its own.
    args = ["-m", "taskgate_worker", "--tasks", tasks, "--concurrency", str(concurrency)]
    args += ["--log-level", "warning"]
    return Service.start(f"worker-{tasks}-c{concurrency}", [*args, "--hostname", hostname], env, logs)


def start_threaded_worker(
    env: dict[str, str], logs: Path, concurrency: int, tasks: str = "process"
) -> Service:
    """The worker's app on Celery's thread pool (bench/threaded_worker.py): many sleeping jobs at once."""
    hostname = f"bench-{tasks}-threads{concurrency}-{uuid4().hex[:6]}@{HOST}"
    args = ["-m", "bench.threaded_worker", tasks, str(concurrency), hostname]
    # It runs in the logs folder, like every service: the bench package is found from the source tree.
    env = {**env, "PYTHONPATH": str(_SOURCE_TREE)}
    return Service.start(f"worker-{tasks}-threads{concurrency}", args, env, logs)


#: `taskgate-api --workers`: one api process per core of this machine (see docs/performance.md).
API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", os.cpu_count() or 1))


def start_api(name: str, env: dict[str, str], logs: Path) -> Service:
    port = free_port()
    # Warning level: one access-log line per request is not what a loaded api should spend its time on.
    args = ["-m", "taskgate_api", "--host", HOST, "--port", str(port), "--log-level", "warning"]
    args += ["--workers", str(API_PROCESSES)]
    return Service.start(name, args, env, logs, url=f"http://{HOST}:{port}")


def rss_bytes(service: Service) -> int:
    """Resident memory of the service and its children (a worker's pool)."""
    parent = psutil.Process(service.process.pid)
    return sum(process.memory_info().rss for process in [parent, *parent.children(recursive=True)])


def cpu_seconds(service: Service) -> float:
    """CPU time (user and system) the service and its children (a worker's pool, the api's processes)
    have used so far."""
    parent = psutil.Process(service.process.pid)
    times = [process.cpu_times() for process in [parent, *parent.children(recursive=True)]]
    return float(sum(cpu.user + cpu.system for cpu in times))


def open_files(service: Service) -> int:
    """Open descriptors of the service and its children (the api's processes)."""
    parent = psutil.Process(service.process.pid)
    return sum(process.num_fds() for process in [parent, *parent.children(recursive=True)])


def api_metric(api: Service, name: str) -> float | None:
    """The value of an unlabelled metric on the api's /metrics, or None if it does not expose it."""
    text = httpx.get(f"{api.url}/metrics", timeout=10.0).text
    for line in text.splitlines():
        metric, _, value = line.partition(" ")
        if metric == name:
            return float(value)
    return None


@contextmanager
def peak_rss(service: Service, every: float = 0.05) -> Iterator[list[int]]:
    """Sample the service's resident memory while inside; the list holds the peak, in bytes, after."""
    peak = [rss_bytes(service)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            peak[0] = max(peak[0], rss_bytes(service))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
