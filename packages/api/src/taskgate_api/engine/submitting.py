"""Submitting a task: record it, send it by name, and — when asked — wait for its outcome.

An `Idempotency-Key` makes a submission attach to the task an earlier request with that key sent; the
task is sent only by the request that claimed the key.

At most SUBMIT_CONCURRENCY submissions of a process talk to Redis and RabbitMQ at once; the others wait
their turn. A burst of thousands then flows through in small groups instead of all at once, so the event
loop keeps answering the requests whose deadline has come while the burst is taken in — and the burst
itself goes no slower, since Redis and RabbitMQ answer a few dozen at a time as fast as thousands.
"""

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from taskgate_api import metrics
from taskgate_api.apikeys import ApiKey
from taskgate_api.engine.errors import InFlightLimitError, ServiceUnavailableError
from taskgate_api.engine.idempotency import IdempotencyKeys
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.sending import TaskSender
from taskgate_api.engine.waiting import DeadlinePassedError, ResultHub, StoppedWaitingError
from taskgate_contracts import TaskSpec, TaskView
from taskgate_contracts.storage import ResultMeta
from taskgate_contracts.storage.scripts import NewTask


@dataclass(frozen=True, slots=True)
class Submission:
    task_id: str
    #: The outcome, or None when the task did not finish before the deadline.
    outcome: ResultMeta | None


@dataclass(frozen=True, slots=True)
class Submitter:
    records: TaskRecords
    sender: TaskSender
    hub: ResultHub
    keys: IdempotencyKeys
    #: Submissions of this process that may talk to Redis and RabbitMQ at once (SUBMIT_CONCURRENCY).
    admission: asyncio.Semaphore

    async def submit(
        self,
        spec: TaskSpec[Any, Any],
        args: BaseModel,
        idempotency_key: str | None,
        key: ApiKey | None,
        callback_url: str | None = None,
    ) -> str:
        """Queue the task (or find the one queued under the same Idempotency-Key, whose webhook stands);
        its id. `key` is the API key submitting it, recorded with it and held to its in-flight limit
        (`InFlightLimitError`); `callback_url` is where its completion webhook goes."""
        async with self.admission:
            task_id, new = await self._claim(spec, args, idempotency_key)
            if new:
                await self._send(spec, args, task_id, idempotency_key, key, callback_url)
        return task_id

    async def submit_and_wait(
        self,
        spec: TaskSpec[Any, Any],
        args: BaseModel,
        deadline: float,
        idempotency_key: str | None,
        key: ApiKey | None,
        callback_url: str | None = None,
    ) -> Submission:
        """Queue the task and wait for its outcome until `deadline` (a `time.monotonic()` value)."""
        with contextlib.ExitStack() as expecting:
            async with self.admission:
                task_id, new = await self._claim(spec, args, idempotency_key)
                # Interest is registered before the task is sent, so even an instant result is not missed.
                outcome = expecting.enter_context(self.hub.expect(task_id, deadline))
                if new:
                    await self._send(spec, args, task_id, idempotency_key, key, callback_url)
                else:
                    _resolve_if_finished(outcome, await self.records.result(task_id))
            return Submission(task_id, await _until(outcome))

    async def wait(self, task_id: str, deadline: float) -> TaskView | None:
        """The task's view once it has finished, or as it is at `deadline`; None if it does not exist."""
        with self.hub.expect(task_id, deadline) as outcome:
            view = await self.records.view(task_id)
            if view is None or view.status.terminal:
                return view
            await _until(outcome)
        return await self.records.view(task_id)

    async def _claim(
        self, spec: TaskSpec[Any, Any], args: BaseModel, idempotency_key: str | None
    ) -> tuple[str, bool]:
        task_id = str(uuid.uuid4())
        if idempotency_key is None:
            return task_id, True
        claim = await self.keys.claim(idempotency_key, spec.name, args, task_id)
        return claim.task_id, claim.new

    async def _send(
        self,
        spec: TaskSpec[Any, Any],
        args: BaseModel,
        task_id: str,
        idempotency_key: str | None,
        key: ApiKey | None,
        callback_url: str | None,
    ) -> None:
        task = NewTask(
            task_id,
            spec.name,
            None if key is None else key.name,
            None if key is None else key.in_flight,
            callback_url,
        )
        try:
            await self.records.create(task)
        except InFlightLimitError:
            if idempotency_key is not None:
                await self.keys.release(idempotency_key)
            raise
        try:
            await self.sender.send(spec, args, task_id)
        except ServiceUnavailableError:
            await self.records.discard(task_id)
            if idempotency_key is not None:
                await self.keys.release(idempotency_key)
            raise
        metrics.TASKS_SUBMITTED.labels(task=spec.name).inc()


def _resolve_if_finished(outcome: asyncio.Future[ResultMeta], stored: ResultMeta | None) -> None:
    if stored is not None and stored.finished and not outcome.done():
        outcome.set_result(stored)


async def _until(outcome: asyncio.Future[ResultMeta]) -> ResultMeta | None:
    """The outcome, or None at the deadline the hub was given or when the api stops waiting.

    The deadline releases the request without cancelling it: thousands of deadlines can fall within
    the same milliseconds, and unwinding a cancellation through each request's stack would make the
    last of them answer late.
    """
    try:
        return await outcome
    except (DeadlinePassedError, StoppedWaitingError):
        return None
