"""Submitting a task: record it, send it by name, and — when asked — wait for its outcome."""

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from taskgate_api import metrics
from taskgate_api.errors import ServiceUnavailableError
from taskgate_api.records import TaskRecords
from taskgate_api.results import ResultMeta
from taskgate_api.sending import TaskSender
from taskgate_api.waiting import ResultHub
from taskgate_contracts import TaskSpec


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

    async def submit_and_wait(self, spec: TaskSpec[Any, Any], args: BaseModel, deadline: float) -> Submission:
        """Queue the task and wait for its outcome until `deadline` (a `time.monotonic()` value)."""
        task_id = str(uuid.uuid4())
        # Interest is registered before the task is sent, so even an instant result is not missed.
        with self.hub.expect(task_id) as outcome:
            await self._send(spec, args, task_id)
            waited_from = time.monotonic()
            try:
                async with asyncio.timeout(max(deadline - waited_from, 0)):
                    result: ResultMeta | None = await outcome
            except TimeoutError:
                result = None
            metrics.WAIT_SECONDS.observe(time.monotonic() - waited_from)
        return Submission(task_id, result)

    async def _send(self, spec: TaskSpec[Any, Any], args: BaseModel, task_id: str) -> None:
        await self.records.create(task_id)
        try:
            await self.sender.send(spec, args, task_id)
        except ServiceUnavailableError:
            await self.records.discard(task_id)
            raise
        metrics.TASKS_SUBMITTED.labels(task=spec.name).inc()
