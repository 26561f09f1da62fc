"""Sustained load with wrk: POST /process on N keep-alive connections for a fixed time."""

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Latency

_SCRIPT = Path(__file__).with_name("post.lua")
_SUMMARY_PREFIX = "BENCH_JSON "
#: One wrk thread drives thousands of requests a second, far more than the api answers; a second
#: thread only for thousands of connections. Every thread is a core taken from the api and the worker.
_CONNECTIONS_PER_THREAD = 2_500


@dataclass(slots=True)
class CpuUsed:
    """CPU seconds (user and system) of every wrk run so far, read from its resource usage when reaped."""

    seconds: float = 0.0


#: The load generator's share of the machine: the CPU meters of the scenarios read it (bench/cpu.py).
CPU = CpuUsed()


@dataclass(frozen=True, slots=True)
class WrkRun:
    connections: int
    requests: int
    seconds: float
    latency: Latency
    #: Failed requests by kind, as wrk counts them: connect, read, write, timeout, and `status` for
    #: answers with a status of 400 and above.
    failures: dict[str, int]
    #: Answers by HTTP status code.
    statuses: dict[str, int]
    #: The first body answered with each status of 400 and above: why those requests failed.
    failure_bodies: dict[str, str]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return sum(self.failures.values())


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: `apt-get install wrk` (nox -s bench does it)")
    return path


def run(url: str, connections: int, seconds: float, delay: float, timeout: float) -> WrkRun:
    """Load `url`/process; `timeout` is how long wrk waits for one answer before counting an error."""
    threads = max(1, -(-connections // _CONNECTIONS_PER_THREAD))
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={timeout:g}s",
        "--latency",
        f"-s{_SCRIPT}",
        url,
    ]
    env = {**os.environ, "BENCH_DELAY": f"{delay:g}"}
    stdout, stderr = _run_counting_cpu(command, env)
    summary_lines = [line for line in stdout.splitlines() if line.startswith(_SUMMARY_PREFIX)]
    if not summary_lines:
        raise RuntimeError(f"wrk printed no summary:\n{stdout}\n{stderr}")
    summary = json.loads(summary_lines[-1].removeprefix(_SUMMARY_PREFIX))
    micros = summary["latency_us"]
    return WrkRun(
        connections=connections,
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        latency=Latency(
            count=summary["requests"],
            p50=micros["p50"] / 1000,
            p90=micros["p90"] / 1000,
            p99=micros["p99"] / 1000,
            max=micros["max"] / 1000,
            mean=micros["mean"] / 1000,
        ),
        failures=summary["errors"],
        statuses=summary["statuses"],
        failure_bodies=summary["failure_bodies"],
    )


def _run_counting_cpu(command: list[str], env: dict[str, str]) -> tuple[str, str]:
    """Run wrk to its end; its output, and its CPU time added to CPU (wait4 gives a child's usage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        CPU.seconds += usage.ru_utime + usage.ru_stime
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{stdout}\n{stderr}")
    return stdout, stderr
