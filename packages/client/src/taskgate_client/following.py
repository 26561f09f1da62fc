"""Following one task's event stream across connections: what to ask for, where to resume, when to give up.

The clients only move bytes: `next_connection` says when to (re)connect, `call` what to ask for (resuming
with `Last-Event-ID`), and each connection's bytes go to `feed`.
"""

import httpx
from pydantic import ValidationError

from taskgate_client.calls import Call, task_path
from taskgate_client.errors import ApiConnectionError, ApiError, error_for, unexpected_answer
from taskgate_client.sse import ServerSentEvent, ServerSentEventDecoder
from taskgate_contracts.events import TaskEvent, TaskEventType
from taskgate_contracts.responses import TaskView

#: Seconds before reconnecting, unless the server asked for another time with `retry:`.
RECONNECT_DELAY = 1.0
#: Connections in a row that may end without bringing a single event before the client gives up.
MAX_EVENTLESS_CONNECTIONS = 5

_EVENT_TYPES = {event_type.value: event_type for event_type in TaskEventType}


def _refused(response: httpx.Response) -> ApiError[object]:
    return error_for(response) if not response.is_success else unexpected_answer(response, "an event stream")


class TaskEventStream:
    def __init__(self, task_id: str, last_event_id: str | None = None) -> None:
        self.task_id = task_id
        #: True once the event whose task status is terminal has been delivered.
        self.finished = False
        self._decoder = ServerSentEventDecoder(last_event_id or "")
        self._connections = 0
        self._ever_opened = False
        self._delivered = False
        self._problem: ApiConnectionError | None = None
        self._eventless = 0
        self._retry_ms: int | None = None

    @property
    def last_event_id(self) -> str:
        return self._decoder.last_event_id

    def next_connection(self) -> float | None:
        """Seconds to wait before the next connection, or None when the task has ended.

        Raises when the stream never opened (the api is unreachable, as for any other call) or when
        connections keep ending without a single event.
        """
        if self.finished:
            return None
        if self._connections == 0:
            return 0.0
        if self._problem is not None and not self._ever_opened:
            raise self._problem
        self._eventless = 0 if self._delivered else self._eventless + 1
        if self._eventless > MAX_EVENTLESS_CONNECTIONS:
            why = f": {self._problem}" if self._problem else ""
            raise ApiConnectionError(
                f"the event stream of task {self.task_id} broke off {self._eventless} times in a row "
                f"without an event before the task finished{why}"
            )
        if self._decoder.retry_ms is not None:
            self._retry_ms = self._decoder.retry_ms
        return RECONNECT_DELAY if self._retry_ms is None else self._retry_ms / 1000

    def call(self) -> Call[ApiError[object]]:
        """The request that (re)opens the stream. Its answer is read only when it is not an event stream,
        and then it is the error to raise."""
        self._connections += 1
        self._delivered, self._problem = False, None
        self._decoder = ServerSentEventDecoder(self._decoder.last_event_id)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self._decoder.last_event_id:
            headers["Last-Event-ID"] = self._decoder.last_event_id
        return Call("GET", f"{task_path(self.task_id)}/events", _refused, headers=headers)

    def accepts(self, response: httpx.Response) -> bool:
        """The answer is the event stream; if not, read its body and raise what `call().read` makes of it."""
        content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        opened = response.status_code == httpx.codes.OK and content_type == "text/event-stream"
        self._ever_opened |= opened
        return opened

    def feed(self, chunk: bytes) -> list[TaskEvent]:
        """The task events in the next bytes, up to and including the terminal one."""
        return self._deliver(self._decoder.feed(chunk))

    def end(self) -> list[TaskEvent]:
        """The connection ended cleanly: an event its last bytes completed, if any."""
        return self._deliver(self._decoder.close())

    def broke_off(self, problem: ApiConnectionError) -> None:
        """The connection failed or broke off: why, for the message if the client gives up."""
        self._problem = problem

    def _deliver(self, messages: list[ServerSentEvent]) -> list[TaskEvent]:
        events = []
        for message in messages:
            event = self._task_event(message)
            if event is None or self.finished:
                continue
            events.append(event)
            self._delivered = True
            self.finished = event.last
        return events

    def _task_event(self, message: ServerSentEvent) -> TaskEvent | None:
        event_type = _EVENT_TYPES.get(message.event)
        if event_type is None:
            return None  # an event type this client does not know yet: the standard says to skip it
        try:
            task = TaskView.model_validate_json(message.data)
        except ValidationError:
            raise ApiError(
                f"the api sent a {message.event} event that is not a task view: {message.data[:200]!r}",
                httpx.codes.OK,
                message.data,
            ) from None
        return TaskEvent(id=message.id, type=event_type, task=task)
