"""The process task: `delay` seconds of simulated work, reporting its progress as it goes.

A cancelled task (the api marks it in Redis) is skipped when it comes up, or stops at its next step —
steps are half a second apart, so a running task stops within a second. A running task then stores itself
as revoked — again, after the api did: a progress report may have overwritten the api's state in the moment
between the check and the report. Celery's `Ignore` ends it without storing anything else.
"""

import math
import time
from typing import Any, NoReturn

from celery import Celery, Task
from celery.exceptions import Ignore
from pydantic import ValidationError

from taskgate_contracts import PROCESS, PROGRESS_STATE, ProcessArgs, Progress
from taskgate_contracts.storage import CANCELLED_REASON
from taskgate_worker.journal import note_progress, note_start
from taskgate_worker.poison import describe_invalid_arguments

#: Seconds between two progress reports.
STEP_SECONDS = 0.5


def register(app: Celery) -> None:
    app.task(name=PROCESS.name, bind=True)(process)


def process(task: Task, **kwargs: Any) -> dict[str, Any]:
    args = _validated(kwargs)
    if note_start(task):
        raise Ignore()  # nothing was written since the api stored it cancelled: that state stands
    # A delay-0 job writes nothing more but its result: it is the hot path the latency benchmark measures.
    if args.delay > 0:
        _sleep_reporting_progress(task, args.delay)
    return PROCESS.result(delay=args.delay).model_dump(mode="json")


def _validated(kwargs: dict[str, Any]) -> ProcessArgs:
    try:
        return PROCESS.args.model_validate(kwargs)
    except ValidationError as exc:
        # A builtin exception: the api rebuilds the failure without importing the worker.
        raise ValueError(describe_invalid_arguments(PROCESS.name, exc)) from None


def _sleep_reporting_progress(task: Task, delay: float) -> None:
    steps = math.ceil(delay / STEP_SECONDS)
    started = time.monotonic()
    _report(task, step=0, steps=steps, slept=0.0, delay=delay)
    for step in range(1, steps + 1):
        slept = min(step * STEP_SECONDS, delay)
        # Against a deadline from the start, so the time spent reporting does not add up.
        time.sleep(max(0.0, started + slept - time.monotonic()))
        _report(task, step=step, steps=steps, slept=slept, delay=delay)


def _report(task: Task, *, step: int, steps: int, slept: float, delay: float) -> None:
    progress = Progress(
        percent=100 * step / steps,
        current=step,
        total=steps,
        message=f"slept {slept:g} of {delay:g} s",
    )
    # Logged before it is published, so a follower woken by the publish finds it in the log.
    if note_progress(task, progress):
        _stop_cancelled(task)
    task.update_state(state=PROGRESS_STATE, meta=progress.model_dump(mode="json"))


def _stop_cancelled(task: Task) -> NoReturn:
    task.app.backend.mark_as_revoked(task.request.id, CANCELLED_REASON, request=task.request)
    raise Ignore()
