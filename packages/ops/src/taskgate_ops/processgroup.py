"""`taskgate-ops up`'s processes run as one group: merged, prefixed output, and all of them stop together
when one ends. Nothing is restarted: the group is a developer's foreground stack, not a supervisor.

Each child gets its own session (so its own process group): a Ctrl-C in the terminal reaches only the
group's own process, which then stops every child's whole group (pool processes included), warmly first.
"""

import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from typing import IO, TextIO

#: Seconds children get between SIGTERM and SIGKILL.
DEFAULT_STOP_GRACE = 10.0
_POLL_SECONDS = 0.2
_SELF = "taskgate-ops"


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None


@dataclass
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    reader: threading.Thread


class ProcessGroup:
    def __init__(self, specs: Sequence[ProcessSpec], output: TextIO, stop_grace: float = DEFAULT_STOP_GRACE):
        self._specs = specs
        self._output = output
        self._stop_grace = stop_grace
        self._width = max(len(name) for name in [_SELF, *(spec.name for spec in specs)])
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()

    def run(self) -> int:
        """Start every child and wait: 0 when stopped by SIGINT/SIGTERM, non-zero when a child died."""
        children: list[_Child] = []
        with self._signals_request_stop():
            try:
                for spec in self._specs:
                    children.append(self._start(spec))
                return self._watch(children)
            except OSError as exc:
                self.say(f"could not start {self._specs[len(children)].name}: {exc}")
                return 1
            finally:
                self._stop(children)

    def say(self, message: str) -> None:
        self._write(_SELF, message)

    def _start(self, spec: ProcessSpec) -> _Child:
        process = subprocess.Popen(  # noqa: S603 - the argv is the launcher's own, never user text
            list(spec.argv),
            env=None if spec.env is None else dict(spec.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        reader = threading.Thread(target=self._relay, args=(spec.name, process.stdout), daemon=True)
        reader.start()
        self.say(f"started {spec.name} (pid {process.pid})")
        return _Child(spec, process, reader)

    def _watch(self, children: list[_Child]) -> int:
        while not self._stop_requested.wait(_POLL_SECONDS):
            for child in children:
                code = child.process.poll()
                if code is not None:
                    self.say(f"{child.spec.name} exited with code {code}; stopping the others")
                    # A child that ends by itself is a failure of the whole, even with code 0.
                    return code or 1
        self.say("stopping")
        return 0

    def _stop(self, children: list[_Child]) -> None:
        for child in children:
            _signal_group(child.process, signal.SIGTERM)
        for child in children:
            try:
                child.process.wait(timeout=self._stop_grace)
            except subprocess.TimeoutExpired:
                self.say(f"{child.spec.name} did not stop within {self._stop_grace:.0f} s; killing it")
            # Whatever the leader did, no process of its group outlives this one.
            _signal_group(child.process, signal.SIGKILL)
            child.process.wait()
            child.reader.join()

    def _relay(self, name: str, stream: IO[bytes]) -> None:
        with stream:
            for line in iter(stream.readline, b""):
                self._write(name, line.decode(errors="replace").rstrip("\n"))

    def _write(self, name: str, line: str) -> None:
        with self._lock:
            self._output.write(f"{name:<{self._width}} | {line}\n")
            self._output.flush()

    @contextmanager
    def _signals_request_stop(self) -> Iterator[None]:
        def request_stop(signum: int, frame: FrameType | None) -> None:
            self._stop_requested.set()

        previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        # The child's pid is its group's id: it was started in a session of its own.
        os.killpg(process.pid, signum)
