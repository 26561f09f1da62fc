"""The faults: killing processes by PID, and noting what was in flight when it happened."""

import os
import signal
from pathlib import Path

from redis import Redis

from testkit.processes import Service
from tests.chaos.ledger import Fault, Ledger, read_runs


def children(pid: int) -> list[int]:
    """The PIDs whose parent is `pid` (a worker's pool processes), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def kill_pool_child(worker: Service) -> int:
    """SIGKILL one of the worker's pool processes, as the OOM killer would; its PID."""
    (victim, *_) = children(worker.process.pid)
    os.kill(victim, signal.SIGKILL)
    return victim


def kill_worker(worker: Service) -> None:
    """SIGKILL the worker and its pool at once, as a machine or container dying would."""
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()


def note_fault(ledger: Ledger, label: str, at: float, redis: Redis) -> Fault:
    """Record a fault that just happened, with the tasks that were running then."""
    fault = Fault(label, at, frozenset(read_runs(redis).unfinished))
    ledger.faults.append(fault)
    return fault
