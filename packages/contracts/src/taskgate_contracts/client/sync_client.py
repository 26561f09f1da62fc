"""`TaskgateClient`: the taskgate api from blocking code."""

import time
from collections.abc import Generator, Iterator
from types import TracebackType
from typing import Self, TypeVar

import httpx

from taskgate_contracts.client import calls
from taskgate_contracts.client.base import ClientBase
from taskgate_contracts.client.calls import Call, Plan
from taskgate_contracts.client.following import TaskEventStream
from taskgate_contracts.events import TaskEvent
from taskgate_contracts.responses import CompletedResponse, PendingResponse, SubmittedResponse, TaskView

ResultT = TypeVar("ResultT")


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

    def submit(self, delay: float, *, idempotency_key: str | None = None) -> SubmittedResponse:
        """Queue a job; answers at once with the task id and where to follow it."""
        return self._send(calls.submit(delay, idempotency_key))

    def process(
        self, delay: float, *, idempotency_key: str | None = None
    ) -> CompletedResponse | PendingResponse:
        """Run a job and wait for it, as the api does: raises `TaskFailedError` when the task fails."""
        return self._send(calls.process(delay, idempotency_key, self.task_timeout))

    def get(self, task_id: str, wait: float | None = None) -> TaskView:
        """The task as it is, or once it ends if that is within `wait` seconds (at most TASK_TIMEOUT)."""
        return self._send(calls.get(task_id, wait))

    def wait(self, task_id: str, timeout: float) -> TaskView:
        """The task once it ends, or as it stands after `timeout` seconds."""
        return self._run(calls.waiting(task_id, timeout, self.task_timeout))

    def cancel(self, task_id: str) -> TaskView:
        """Cancel a queued or running task; raises `ConflictError` when it has already finished."""
        return self._send(calls.cancel(task_id))

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
