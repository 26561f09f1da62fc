"""Where a scenario's CPU went, from each process's own counters.

The api (its supervisor and every api process) and each worker (its main process and its pool) are read
from `/proc/<pid>/stat` — user plus system time, through psutil — before and after the scenario. The load
generator is the bench's own process (the asyncio client runs in it, with the samplers beside it) plus
every wrk run in between, counted from wrk's resource usage when it is reaped. The machine's busy time
over the same interval, against what its cores could give, says whether the cores were the limit: on a
machine whose cores the generator shares with the services, a target missed at 100 % busy is a missed
target of the machine, and the generator's share shows how much.
"""

import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import psutil

from bench import wrk
from bench.services import cpu_seconds
from bench.targets import Figure, reported
from testkit.processes import Service

_CORES = os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Reading:
    """CPU seconds used so far by each party, and the machine's busy and elapsed time."""

    api: float
    workers: float
    generator: float
    machine_busy: float
    clock: float


def generator_seconds() -> float:
    """CPU the load generators have used so far: this process and the wrk runs it has reaped."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + wrk.CPU.seconds


def machine_busy_seconds() -> float:
    """Core-seconds the machine has spent on anything but idling (waiting for I/O counts as idle)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


class CpuMeter:
    """`with CpuMeter(api, workers) as meter:` around a scenario; `meter.figures(...)` after it."""

    def __init__(self, api: Service | None, workers: Sequence[Service]) -> None:
        self._api = api
        self._workers = list(workers)
        self._before: Reading | None = None
        self._after: Reading | None = None

    def _read(self) -> Reading:
        return Reading(
            api=cpu_seconds(self._api) if self._api is not None else 0.0,
            workers=sum(cpu_seconds(worker) for worker in self._workers),
            generator=generator_seconds(),
            machine_busy=machine_busy_seconds(),
            clock=time.monotonic(),
        )

    def __enter__(self) -> "CpuMeter":
        self._before = self._read()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._after = self._read()

    def used(self) -> dict[str, float]:
        """The CPU seconds each party used while inside, and the seconds that took."""
        if self._before is None or self._after is None:
            raise RuntimeError("the meter reads a scenario it was entered and left around")
        before, after = self._before, self._after
        return {
            "seconds": after.clock - before.clock,
            "api_s": after.api - before.api,
            "workers_s": after.workers - before.workers,
            "generator_s": after.generator - before.generator,
            "machine_busy_s": after.machine_busy - before.machine_busy,
        }

    def figures(self, answers: int, tasks: int) -> list[Figure]:
        """The api's CPU per answer, the workers' per task (when they ran any), the generator's CPU, and
        how busy the machine's cores were."""
        used = self.used()
        seconds = used["seconds"]
        figures = []
        if self._api is not None and answers:
            figures.append(reported("api CPU per answer", 1000 * used["api_s"] / answers, "ms"))
        if self._workers and tasks:
            figures.append(reported("worker CPU per task", 1000 * used["workers_s"] / tasks, "ms"))
        figures += [
            reported(f"load generator CPU, of {seconds:.1f} s", used["generator_s"], "s"),
            reported(
                f"machine CPU busy, of {_CORES} cores", 100 * used["machine_busy_s"] / (_CORES * seconds), "%"
            ),
        ]
        return figures
