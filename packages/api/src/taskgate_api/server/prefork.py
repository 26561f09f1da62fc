"""`taskgate-api --workers N`: N api processes on one port, and the small process that keeps them running.

Each api process is `taskgate-api --reuse-port` on the same port with a socket of its own
(SO_REUSEPORT), so the kernel spreads connections evenly over them; with one shared socket, a burst
would mostly be accepted by whichever process woke first. The supervisor forwards SIGTERM and SIGINT
(each process then answers its waiting requests before it stops), starts a new process when one dies,
and stops with a process's exit status when one cannot start at all (a wrong setting: exit 2, with the
process's own message). The processes' Prometheus metrics are summed through a shared directory
(prometheus_client's multiprocess mode).

The supervisor imports nothing but the standard library, so it stays a few MB: each api process loads
the api for itself.
"""

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from taskgate_api.multiprocess import METRICS_DIR_VARIABLE

#: A process that exits sooner than this after its start is taken to be unable to start at all.
_STARTUP_SECONDS = 10.0
#: How long the api processes get to answer their waiting requests and stop.
STOP_GRACE_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int
    backlog: int
    log_level: str


def shared_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` that other processes of this user may bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _die_with_supervisor() -> None:
    """Run in each api process before it starts: Linux sends it SIGTERM if the supervisor dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class _ApiProcess:
    process: "subprocess.Popen[bytes]"
    started: float


class PreforkSupervisor:
    def __init__(self, listen: Listen, processes: int) -> None:
        self._listen = listen
        self._processes = processes
        self._stopping = False

    def run(self) -> int:
        """Run the api processes until SIGTERM or SIGINT; the exit status."""
        # Bound but never listening, so it is handed no connections; it fails once, clearly, when the
        # port is taken, and names the port when 0 was asked for.
        try:
            reservation = shared_port_socket(self._listen.host, self._listen.port)
        except OSError as exc:
            _say(f"error: cannot listen on {self._listen.host}:{self._listen.port}: {exc}")
            return 1
        port: int = reservation.getsockname()[1]
        own_metrics_dir = METRICS_DIR_VARIABLE not in os.environ
        if own_metrics_dir:  # the api processes inherit it
            os.environ[METRICS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="taskgate-api-metrics-")
        wakeup_read, wakeup_write = socket.socketpair()
        wakeup_write.setblocking(False)
        wakeup_read.setblocking(False)
        previous_wakeup = signal.set_wakeup_fd(wakeup_write.fileno())
        handlers = {signal.SIGTERM: self._on_stop, signal.SIGINT: self._on_stop, signal.SIGCHLD: _ignore}
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
        try:
            return self._supervise(port, wakeup_read)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_wakeup)
            wakeup_read.close()
            wakeup_write.close()
            reservation.close()
            if own_metrics_dir:
                shutil.rmtree(os.environ.pop(METRICS_DIR_VARIABLE), ignore_errors=True)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _start(self, port: int) -> _ApiProcess:
        listen = self._listen
        command = [sys.executable, "-m", "taskgate_api", "--reuse-port", "--workers", "1"]
        command += ["--host", listen.host, "--port", str(port), "--backlog", str(listen.backlog)]
        command += ["--log-level", listen.log_level]
        process = subprocess.Popen(command, preexec_fn=_die_with_supervisor)  # noqa: S603
        return _ApiProcess(process, time.monotonic())

    def _supervise(self, port: int, wakeup: socket.socket) -> int:
        running = [self._start(port) for _ in range(self._processes)]
        pids = ", ".join(str(api.process.pid) for api in running)
        _say(f"{len(running)} processes on http://{self._listen.host}:{port} (pids {pids})")
        status = 0
        while not self._stopping:
            _wait_readable(wakeup)
            for index, api in enumerate(running):
                code = api.process.poll()
                if self._stopping or code is None:
                    continue
                _forget(api.process.pid)
                if time.monotonic() - api.started < _STARTUP_SECONDS:
                    _say(f"process {api.process.pid} could not start (exit {code})")
                    self._stopping, status = True, code if code > 0 else 1
                    break
                _say(f"process {api.process.pid} died (exit {code}); starting another")
                running[index] = self._start(port)
        _stop_all([api.process for api in running])
        return status


def _say(line: str) -> None:
    """One line of the supervisor's own, in the api processes' format (LOG_FORMAT, else JSON unless
    stderr is a terminal), so a log collector reading them all gets objects only."""
    if (os.environ.get("LOG_FORMAT") or ("text" if sys.stderr.isatty() else "json")) == "json":
        record = {
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "level": "info",
            "logger": "taskgate_api.supervisor",
            "service": "taskgate-api",
            "message": line,
        }
        line = json.dumps(record, ensure_ascii=False)
    else:
        line = f"taskgate-api: {line}"
    print(line, file=sys.stderr, flush=True)


def _wait_readable(wakeup: socket.socket) -> None:
    """Sleep until a signal arrives (a stop, or a process's exit), then drain its wake-up bytes."""
    select.select([wakeup], [], [])
    with contextlib.suppress(BlockingIOError):
        while wakeup.recv(64):
            pass


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A handler that does nothing: installing it makes SIGCHLD reach the wake-up descriptor."""


def _stop_all(processes: "list[subprocess.Popen[bytes]]") -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _forget(process.pid)


def _forget(pid: int) -> None:
    """Drop a stopped process's live gauges, so /metrics no longer sums them in (what
    prometheus_client's `multiprocess.mark_process_dead` does, without loading the library here)."""
    directory = os.environ.get(METRICS_DIR_VARIABLE)
    if directory:
        for path in Path(directory).glob(f"gauge_live*_{pid}.db"):
            path.unlink(missing_ok=True)
