"""A throwaway RabbitMQ vhost, and worker processes on it, for the tests that need a real broker: what
the in-memory one cannot show, such as a retry published by a pool process or two workers side by side."""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from celery import Celery

MANAGEMENT_URL = os.environ.get("TASKGATE_TEST_RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672")
USER = PASSWORD = "guest"
#: Where `tests` (this package) is found by a worker process that imports it.
TESTS_PARENT = Path(__file__).parent.parent
#: Seconds a worker process gets to come up and answer a ping, and to shut down.
START_TIMEOUT = 30
STOP_TIMEOUT = 20


def _management(method: str, path: str, body: object = None) -> Any:
    credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        MANAGEMENT_URL + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = response.read()
    return json.loads(answer) if answer else None


def queue_info(vhost: str, queue: str) -> dict[str, Any]:
    """The queue as the management API describes it."""
    info: dict[str, Any] = _management("GET", f"/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}")
    return info


@contextmanager
def throwaway_vhost() -> Iterator[str]:
    """A vhost of its own, on which the guest user may do anything; deleted with all it holds after."""
    name = f"taskgate-worker-tests-{uuid.uuid4().hex[:8]}"
    _management("PUT", f"/api/vhosts/{quote(name, safe='')}")
    try:
        everything = {"configure": ".*", "write": ".*", "read": ".*"}
        _management("PUT", f"/api/permissions/{quote(name, safe='')}/{USER}", everything)
        yield name
    finally:
        _management("DELETE", f"/api/vhosts/{quote(name, safe='')}")


class WorkerProcess:
    """A worker started as its own process, as a deployment starts it."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(TESTS_PARENT), **env},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> str:
        """Its warm shutdown, as on SIGTERM; everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            output, _ = self.process.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output


def wait_for_nodes(client: Celery, count: int, processes: Sequence[WorkerProcess]) -> set[str]:
    """The names of the `count` workers that answer a ping once they all do."""
    deadline = time.monotonic() + START_TIMEOUT
    names: set[str] = set()
    while len(names) < count:
        exited = [worker.stop() for worker in processes if worker.process.poll() is not None]
        assert not exited, f"a worker exited: {exited}"
        assert time.monotonic() < deadline, f"only {sorted(names)} answered within {START_TIMEOUT} s"
        replies = client.control.ping(timeout=0.5) or []
        names = {name for reply in replies for name in reply}
    return names
