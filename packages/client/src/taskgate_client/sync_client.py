"""`TaskgateClient`: the taskgate api from blocking code."""

import time
from collections.abc import Generator, Iterator, Mapping
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


class TaskgateClient(ClientBase[httpx.Client, httpx.BaseTransport]):
    """The taskgate api from blocking code. Use it as a context manager, or `close()` it."""

    def _connect(self, headers: dict[str, str], transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=headers, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @overload
    def submit(
        self,
        task: TaskSpec[ArgsT, Any],
        args: ArgsT | Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> SubmittedResponse: ...
    @overload
    def submit(
        self,
        task: str,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> SubmittedResponse: ...
    def submit(
        self,
        task: TaskType,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> SubmittedResponse:
        """Queue a task of the given type (its spec, or its name); answers at once with the task id and
        where to follow it. `args` is the type's args model, or the JSON of its arguments as a mapping.
        With `callback_url`, the task's view is posted there once it ends, signed (Standard Webhooks)."""
        return self._send(calls.submit(task, args, idempotency_key, callback_url))

    @overload
    def run(
        self,
        task: TaskSpec[ArgsT, TaskResultT],
        args: ArgsT | Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        timeout: float | None = None,
    ) -> TaskResultT: ...
    @overload
    def run(
        self,
        task: str,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        timeout: float | None = None,
    ) -> Any: ...
    def run(
        self,
        task: TaskType,
        args: TaskArgs = None,
        *,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Run a task and answer its result once it completes: an instance of the spec's result model, or
        the result's JSON when given a type name.

        Waits up to `timeout` seconds (by default `task_timeout`, which the api may hold the request for
        anyway). Raises `TaskFailedError` or `TaskCancelledError` when the task does not complete, and
        `TaskPendingError`, which carries its `task_id`, when it has not finished in time.
        """
        return self._run(running(task, args, idempotency_key, self.task_timeout, timeout, callback_url))

    def get(self, task_id: str, wait: float | None = None) -> TaskView:
        """The task as it is, or once it ends if that is within `wait` seconds (at most TASK_TIMEOUT)."""
        return self._send(calls.get(task_id, wait))

    def wait(self, task_id: str, timeout: float) -> TaskView:
        """The task once it ends, or as it stands after `timeout` seconds."""
        return self._run(calls.waiting(task_id, timeout, self.task_timeout))

    def cancel(self, task_id: str) -> TaskView:
        """Cancel a queued or running task; raises `ConflictError` when it has already finished."""
        return self._send(calls.cancel(task_id))

    def list_tasks(
        self, which: TaskFilter | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskPage:
        """One page of the task history, newest first; its `next_cursor` fetches the next one."""
        return self._send(calls.list_tasks(which or TaskFilter(), limit, cursor))

    def all_tasks(self, which: TaskFilter | None = None, page_size: int = 100) -> list[TaskView]:
        """Every task of the history that matches, newest first, fetched page by page."""
        return self._run(calls.every_task(which or TaskFilter(), page_size))

    def dead_letters(self, limit: int = 100) -> DeadLetterList:
        """What the dead-letter queues hold, without taking it out (an admin key's)."""
        return self._send(calls.dead_letters(limit))

    def replay(self, task_id: str) -> ReplayedResponse:
        """Send a dead-lettered task back to its queue, once (an admin key's); `ConflictError` the second
        time, `NotFoundError` when no dead-letter queue holds it."""
        return self._send(calls.replay(task_id))

    def events(self, task_id: str, last_event_id: str | None = None) -> Generator[TaskEvent, None, None]:
        """Every change of the task as it happens, up to and including its terminal event.

        A connection that drops before the end is resumed after the last event received. To stop early,
        `close()` the generator (or use `contextlib.closing`): that closes the connection at once.
        """
        stream = TaskEventStream(task_id, last_event_id)
        while (pause := stream.next_connection()) is not None:
            time.sleep(pause)
            yield from self._connection(stream)

    def _connection(self, stream: TaskEventStream) -> Iterator[TaskEvent]:
        call = stream.call()
        try:
            response = self._http.send(call.request(self._http, self.timeout), stream=True)
            try:
                if not stream.accepts(response):
                    response.read()
                    raise call.read(response)
                for chunk in response.iter_bytes():
                    yield from stream.feed(chunk)
                    if stream.finished:
                        return
                yield from stream.end()
            finally:
                response.close()
        except httpx.TransportError as problem:
            stream.broke_off(calls.connection_error(self.base_url, problem))

    def _send(self, call: Call[ResultT]) -> ResultT:
        try:
            response = self._http.send(call.request(self._http, self.timeout))
        except httpx.TransportError as problem:
            raise calls.connection_error(self.base_url, problem) from problem
        return call.read(response)

    def _run(self, plan: Plan[ResultT]) -> ResultT:
        call = next(plan)
        while True:
            answer = self._send(call)
            try:
                call = plan.send(answer)
            except StopIteration as done:
                result: ResultT = done.value
                return result
