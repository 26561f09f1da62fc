"""The real worker and api as child processes: started with their settings, awaited, stopped by PID."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from testkit.infrastructure import AMQP_PORT, HOST, RABBITMQ_PASSWORD, RABBITMQ_USER, REDIS_URL

#: Seconds a stopped service gets to shut down warmly before it and its children are killed.
_STOP_GRACE = 10.0
_LOG_TAIL = 12_000

#: The services running now, whose logs a failed test's report shows.
LIVE_SERVICES = pytest.StashKey[list["Service"]]()


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def settings_env(vhost: str, **settings: str | float) -> dict[str, str]:
    """The environment of one service: this machine's RabbitMQ and Redis, `vhost`, and `settings`."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "ENVIRONMENT": "development",
        "RABBITMQ_HOST": HOST,
        "PORT_AMQP": str(AMQP_PORT),
        "RABBITMQ_DEFAULT_USER": RABBITMQ_USER,
        "RABBITMQ_DEFAULT_PASS": RABBITMQ_PASSWORD,
        "RABBITMQ_VHOST": vhost,
        "REDIS_URL": REDIS_URL,
        "RESULT_EXPIRES": "600",
    }
    env.update({name.upper(): str(value) for name, value in settings.items()})
    return env


@dataclass
class Service:
    """One started process, its log file, and (for the api) the URL it serves."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    @classmethod
    def start(
        cls,
        name: str,
        args: list[str],
        env: Mapping[str, str],
        workdir: Path,
        url: str = "",
        within: Sequence[str] = (),
    ) -> "Service":
        """Python with `args`, run through `within` when given (`ip netns exec <namespace>`, which execs
        it, so the PID stays the service's)."""
        # Its own session makes the PID a process group id too, so pool children can be stopped with it.
        log_path = workdir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*within, sys.executable, *args],
                env=dict(env),
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name=name, process=process, log_path=log_path, url=url)

    def log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return text[-_LOG_TAIL:] or "(empty log)"

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON lines of its log (LOG_FORMAT=json), skipping what was printed before logging was set
        up (Python's own warnings)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=_STOP_GRACE)
        # Whatever is left of its group (a pool child the warm shutdown missed) goes too.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_worker(
    env: Mapping[str, str], workdir: Path, *, tasks: str | None = None, named: bool = True
) -> Service:
    """A worker of one process, hosting `tasks` (else every installed type), with a node name the test
    picks unless `named` is false."""
    # The spelling workers before 0.3 know too (`--log-level` since): the cross-version run starts old ones.
    args = ["-m", "taskgate_worker", "--concurrency", "1", "--loglevel", "info"]
    if named:
        args += ["--hostname", f"taskgate-test-{uuid4().hex[:8]}@{HOST}"]
    if tasks is not None:
        args += ["--tasks", tasks]
    return Service.start("worker" if tasks is None else f"worker[{tasks}]", args, env, workdir)


def start_api(name: str, env: Mapping[str, str], workdir: Path) -> Service:
    port = free_port()
    args = ["-m", "taskgate_api", "--host", HOST, "--port", str(port)]
    return Service.start(name, args, env, workdir, url=f"http://{HOST}:{port}")


def wait_until(what: str, ready: Callable[[], bool], services: list[Service], timeout: float = 60.0) -> None:
    """Poll `ready` until it holds; fail at once, with the logs, when a service dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        dead = [service for service in services if service.process.poll() is not None]
        if dead or time.monotonic() > deadline:
            reason = (
                f"{dead[0].name} exited with {dead[0].process.returncode}"
                if dead
                else f"not within {timeout:.0f} s"
            )
            logs = "\n".join(f"--- {service.name} log ---\n{service.log_tail()}" for service in services)
            raise RuntimeError(f"waiting for {what}: {reason}\n{logs}")
        time.sleep(0.2)


def answers(url: str, status: int, headers: Mapping[str, str] | None = None) -> Callable[[], bool]:
    """A readiness probe: GET `url` (with `headers`) answers `status`."""

    def probe() -> bool:
        try:
            return httpx.get(url, headers=headers, timeout=5.0).status_code == status
        except httpx.HTTPError:
            return False

    return probe


@contextmanager
def running(config: pytest.Config, service: Service) -> Iterator[Service]:
    """Keep `service` listed for failure reports while it runs; stop it (and its children) after."""
    live = config.stash.setdefault(LIVE_SERVICES, [])
    live.append(service)
    try:
        yield service
    finally:
        live.remove(service)
        service.stop()


def wait_ready(api: Service, worker: Service, headers: Mapping[str, str] | None = None) -> None:
    """The api's /readyz says RabbitMQ, Redis and a worker are reachable (asked with `headers`: a key's
    when API_KEYS is set)."""
    probe = answers(f"{api.url}/readyz", 200, headers)
    wait_until(f"{api.name} to be ready with a worker", probe, [api, worker])
