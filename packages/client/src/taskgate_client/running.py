"""Running a task and waiting for its outcome: the plan behind the clients' `run`.

The run operation holds the request for up to the api's TASK_TIMEOUT and answers `200` with the result,
`202` pending or `500` failed. A pending task is then waited for with `?wait=` long-polls until the run's
own timeout runs out. The result is read with the task type's result model when the client was given its
spec, and is the JSON the api sent when it was given a name only.
"""

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from taskgate_client.calls import (
    Plan,
    TaskArgs,
    TaskType,
    ask,
    post_args,
    read_model,
    run_path,
    waiting,
)
from taskgate_client.errors import (
    ApiError,
    TaskCancelledError,
    TaskFailedError,
    TaskPendingError,
    error_for,
    unexpected_answer,
)
from taskgate_contracts.responses import FailedResponse, PendingResponse, TaskState, TaskView
from taskgate_contracts.tasks import TaskSpec


class Completed(BaseModel):
    """The `200` of any task type's run operation, its result still plain JSON."""

    result: Any
    task_id: str


def _read_outcome(response: httpx.Response) -> Completed | PendingResponse:
    if response.status_code == httpx.codes.OK:
        return read_model(response, Completed)
    if response.status_code == httpx.codes.ACCEPTED:
        return read_model(response, PendingResponse)
    if response.is_success:
        raise unexpected_answer(response, "200 completed or 202 pending")
    raise error_for(response)


def running(
    task: TaskType,
    args: TaskArgs,
    idempotency_key: str | None,
    task_timeout: float,
    timeout: float | None,
    callback_url: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Plan[Any]:
    """Run the task and answer its result once it completes, within `timeout` seconds (by default the
    api's TASK_TIMEOUT, which the run operation may hold the request for anyway).

    Raises `TaskFailedError`, `TaskCancelledError`, or `TaskPendingError` when it has not finished in time.
    """
    started = clock()
    deadline = started + (task_timeout if timeout is None else timeout)
    run = post_args(
        run_path(task), args, idempotency_key, _read_outcome, holds=task_timeout, callback_url=callback_url
    )
    outcome = yield from ask(run)
    if isinstance(outcome, Completed):
        return _result(task, outcome.task_id, outcome.result)
    # Out of time already, the task is still read once: it may have ended since the api answered.
    view = yield from waiting(outcome.task_id, max(deadline - clock(), 0), task_timeout, clock)
    return _ended(task, view, clock() - started)


def _result(task: TaskType, task_id: str, result: Any) -> Any:
    if not isinstance(task, TaskSpec):
        return result
    try:
        return task.result.model_validate(result)
    except ValidationError:
        text = json.dumps(result)
        raise ApiError(
            f"the result of task {task_id} is not a {task.result.__name__}: {text[:200]!r}",
            httpx.codes.OK,
            text,
        ) from None


def _ended(task: TaskType, view: TaskView, elapsed: float) -> Any:
    if view.status is TaskState.COMPLETED:
        return _result(task, view.task_id, view.result)
    if view.status is TaskState.FAILED:
        failed = FailedResponse(error=view.error or "no reason given", time=elapsed, task_id=view.task_id)
        raise TaskFailedError.of(failed, httpx.codes.OK)
    if view.status is TaskState.CANCELLED:
        why = f": {view.error}" if view.error else ""
        raise TaskCancelledError(f"task {view.task_id} was cancelled{why}", view)
    raise TaskPendingError(f"task {view.task_id} is still {view.status.value} after {elapsed:.2f} s", view)
