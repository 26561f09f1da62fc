"""`AsyncTaskgateClient`: the taskgate api from asyncio code, with the same calls as `TaskgateClient`."""

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from types import TracebackType
from typing import Any, Self, TypeVar, overload

import httpx
from pydantic import BaseModel

from taskgate_client import calls
from taskgate_client.base import ClientBase
from taskgate_client.calls import Call, Plan, TaskArgs, TaskFilter, TaskType
from taskgate_client.following import TaskEventStream
from taskgate_client.running import running
from taskgate_contracts.events import TaskEvent
from taskgate_contracts.history import DeadLetterList, ReplayedResponse, TaskPage
from taskgate_contracts.responses import SubmittedResponse, TaskView
from taskgate_contracts.tasks import TaskSpec

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ResultT = TypeVar("ResultT")
TaskResultT = TypeVar("TaskResultT", bound=BaseModel)


class AsyncTaskgateClient(ClientBase[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """The taskgate api from asyncio code. Use it as an async context manager, or `aclose()` it."""

    def _connect(
        self, headers: dict[str, str], transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @overload
    async def submit(
        self,
        task: TaskSpec[ArgsT, Any],
        args: ArgsT | Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> SubmittedResponse: ...
    @overload
    async def submit(
        self,
        task: str,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> SubmittedResponse: ...
    async def submit(
        self,
        task: TaskType,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> SubmittedResponse:
        return await self._send(calls.submit(task, args, idempotency_key, callback_url))

    # Not asyncio.timeout: running out of time raises TaskPendingError, never cuts a call short.
    @overload
    async def run(
        self,
        task: TaskSpec[ArgsT, TaskResultT],
        args: ArgsT | Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> TaskResultT: ...
    @overload
    async def run(
        self,
        task: str,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Any: ...
    async def run(
        self,
        task: TaskType,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Any:
        plan = running(task, args, idempotency_key, self.task_timeout, timeout, callback_url)
        return await self._run(plan)

    async def get(self, task_id: str, wait: float | None = None) -> TaskView:
        return await self._send(calls.get(task_id, wait))

    # Not asyncio.timeout: running out of time answers the task's last view, never cuts a call short.
    async def wait(self, task_id: str, timeout: float) -> TaskView:  # noqa: ASYNC109
        return await self._run(calls.waiting(task_id, timeout, self.task_timeout))

    async def cancel(self, task_id: str) -> TaskView:
        return await self._send(calls.cancel(task_id))

    async def list_tasks(
        self, which: TaskFilter | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskPage:
        """One page of the task history, newest first; its `next_cursor` fetches the next one."""
        return await self._send(calls.list_tasks(which or TaskFilter(), limit, cursor))

    async def all_tasks(self, which: TaskFilter | None = None, page_size: int = 100) -> list[TaskView]:
        """Every task of the history that matches, newest first, fetched page by page."""
        return await self._run(calls.every_task(which or TaskFilter(), page_size))

    async def dead_letters(self, limit: int = 100) -> DeadLetterList:
        """What the dead-letter queues hold, without taking it out (an admin key's)."""
        return await self._send(calls.dead_letters(limit))

    async def replay(self, task_id: str) -> ReplayedResponse:
        """Send a dead-lettered task back to its queue, once (an admin key's); `ConflictError` the second
        time, `NotFoundError` when no dead-letter queue holds it."""
        return await self._send(calls.replay(task_id))

    async def events(self, task_id: str, last_event_id: str | None = None) -> AsyncGenerator[TaskEvent, None]:
        """As `TaskgateClient.events`; to stop early, `aclose()` it (or use `contextlib.aclosing`)."""
        stream = TaskEventStream(task_id, last_event_id)
        while (pause := stream.next_connection()) is not None:
            await asyncio.sleep(pause)
            # aclosing: a consumer that stops early closes the open response at once, not at collection.
            async with aclosing(self._connection(stream)) as connection:
                async for event in connection:
                    yield event

    async def _connection(self, stream: TaskEventStream) -> AsyncGenerator[TaskEvent, None]:
        call = stream.call()
        try:
            response = await self._http.send(call.request(self._http, self.timeout), stream=True)
            try:
                if not stream.accepts(response):
                    await response.aread()
                    raise call.read(response)
                async for chunk in response.aiter_bytes():
                    for event in stream.feed(chunk):
                        yield event
                    if stream.finished:
                        return
                for event in stream.end():
                    yield event
            finally:
                await response.aclose()
        except httpx.TransportError as problem:
            stream.broke_off(calls.connection_error(self.base_url, problem))

    async def _send(self, call: Call[ResultT]) -> ResultT:
        try:
            response = await self._http.send(call.request(self._http, self.timeout))
        except httpx.TransportError as problem:
            raise calls.connection_error(self.base_url, problem) from problem
        return call.read(response)

    async def _run(self, plan: Plan[ResultT]) -> ResultT:
        call = next(plan)
        while True:
            answer = await self._send(call)
            try:
                call = plan.send(answer)
            except StopIteration as done:
                result: ResultT = done.value
                return result
