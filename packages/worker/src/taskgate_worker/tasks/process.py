"""The process task: `delay` seconds of simulated work, reporting its progress as it goes."""

import math
import time
from datetime import UTC, datetime
from typing import Any

from celery import Celery, Task
from pydantic import ValidationError

from taskgate_contracts import PROCESS, PROGRESS_STATE, ProcessArgs, Progress
from taskgate_contracts.storage import RecordField, record_key

#: Seconds between two progress reports.
STEP_SECONDS = 0.5


def register(app: Celery) -> None:
    app.task(name=PROCESS.name, bind=True)(process)


def process(task: Task, **kwargs: Any) -> dict[str, Any]:
    args = _validated(kwargs)
    _record_start(task)
    # A delay-0 job writes nothing but its result: it is the hot path the latency benchmark measures.
    if args.delay > 0:
        _sleep_reporting_progress(task, args.delay)
    return PROCESS.result(delay=args.delay).model_dump(mode="json")


def _validated(kwargs: dict[str, Any]) -> ProcessArgs:
    try:
        return PROCESS.args.model_validate(kwargs)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
            for error in exc.errors()
        )
        # A builtin exception: the api rebuilds the failure without importing the worker.
        raise ValueError(f"invalid arguments for {PROCESS.name}: {reasons}") from None


def _record_start(task: Task) -> None:
    """Note when and where the task started, beside the result Celery keeps."""
    backend = task.app.backend
    key = record_key(task.request.id)
    fields = {
        RecordField.STARTED_AT: datetime.now(UTC).isoformat(),
        RecordField.WORKER: task.request.hostname,
    }

    def write() -> None:
        with backend.client.pipeline() as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, backend.expires)
            pipe.execute()

    # The backend's own retry policy, so a Redis blip delays the record instead of failing the job.
    backend.ensure(write, ())


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
    task.update_state(state=PROGRESS_STATE, meta=progress.model_dump(mode="json"))
