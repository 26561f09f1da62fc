"""The handler of `process`: `delay` seconds of simulated work, reporting progress every half second.

Reports are half a second apart, so a cancelled task stops within a second (`TaskContext.report` raises
`TaskCancelled`).
"""

import math
import time

from taskgate_contracts import TaskContext
from taskgate_contracts.builtin.process import ProcessArgs, ProcessResult

#: Seconds between two progress reports.
STEP_SECONDS = 0.5


def process(args: ProcessArgs, context: TaskContext) -> ProcessResult:
    # A delay-0 job writes nothing but its result: it is the hot path the latency benchmark measures.
    if args.delay > 0:
        _sleep_reporting_progress(context, args.delay)
    return ProcessResult(delay=args.delay)


def _sleep_reporting_progress(context: TaskContext, delay: float) -> None:
    steps = math.ceil(delay / STEP_SECONDS)
    started = time.monotonic()
    _report(context, step=0, steps=steps, slept=0.0, delay=delay)
    for step in range(1, steps + 1):
        slept = min(step * STEP_SECONDS, delay)
        # Against a deadline from the start, so the time spent reporting does not add up.
        time.sleep(max(0.0, started + slept - time.monotonic()))
        _report(context, step=step, steps=steps, slept=slept, delay=delay)


def _report(context: TaskContext, *, step: int, steps: int, slept: float, delay: float) -> None:
    context.report(100 * step / steps, f"slept {slept:g} of {delay:g} s", current=step, total=steps)
