"""The sync and async clients against a fake api: the requests they send, the answers and errors they
decode, the event streams they follow."""

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from typing import Any, assert_type

import httpx
import pytest
from pydantic import BaseModel

from taskgate_client import (
    ApiConnectionError,
    ApiError,
    AsyncTaskgateClient,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    ServiceUnavailableError,
    TaskCancelledError,
    TaskFailedError,
    TaskgateClient,
    TaskgateError,
    TaskPendingError,
    TaskTypeNotFoundError,
    UnauthorizedError,
)
from taskgate_client.calls import waiting
from taskgate_client.following import (
    MAX_EVENTLESS_CONNECTIONS,
    RECONNECT_DELAY,
    TaskEventStream,
)
from taskgate_client.running import running
from taskgate_contracts import (
    IDEMPOTENCY_HEADER,
    ConflictResponse,
    ErrorDetail,
    FailedResponse,
    NotFoundResponse,
    PendingResponse,
    Progress,
    ServiceUnavailableResponse,
    SubmittedResponse,
    TaskEvent,
    TaskLinks,
    TaskSpec,
    TaskState,
    TaskView,
    UnknownTaskTypeResponse,
    ValidationErrorResponse,
)
from taskgate_contracts.builtin.process import PROCESS, ProcessArgs, ProcessResult
from taskgate_contracts.builtin.thumbnail import THUMBNAIL, ThumbnailArgs, ThumbnailResult
from taskgate_contracts.operations import completed_model, run_path, submit_path

URL = "http://taskgate.test"
TASK = "6f1c0000-0000-0000-0000-000000000001"
TIMEOUT = 10.0
TASK_TIMEOUT = 5.0
SSE = {"content-type": "text/event-stream; charset=utf-8"}


def view(status: TaskState, percent: float = 0, **fields: Any) -> TaskView:
    return TaskView(task_id=TASK, status=status, progress=Progress(percent=percent), **fields)


def answer(status: int, body: Any) -> httpx.Response:
    if hasattr(body, "model_dump_json"):
        return httpx.Response(
            status, content=body.model_dump_json(), headers={"content-type": "application/json"}
        )
    # Compact, as the api writes its JSON (and as httpx's json= does only from 0.28).
    return httpx.Response(
        status, content=json.dumps(body, separators=(",", ":")), headers={"content-type": "application/json"}
    )


def event(kind: str, task: TaskView, event_id: str) -> bytes:
    """One Server-Sent Event as the api writes it."""
    return f"id: {event_id}\nevent: {kind}\ndata: {task.model_dump_json()}\n\n".encode()


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body arriving in pieces, that may break off with `then`; it notes being closed."""

    def __init__(self, *chunks: bytes, then: Exception | None = None) -> None:
        self.chunks, self.then, self.closed = chunks, then, False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.then is not None:
            raise self.then

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then is not None:
            raise self.then

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class Api:
    """A fake api: each request gets (a fresh copy of) the next of `answers`, the last one repeating."""

    answers: list[httpx.Response | Exception]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return httpx.Response(reply.status_code, headers=reply.headers, stream=reply.stream)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def fake(*answers: httpx.Response | Exception) -> Api:
    return Api(list(answers))


Use = Callable[..., Any]


def _use_sync(api: Api, method: str, *args: Any, api_key: str | None = None, **kwargs: Any) -> Any:
    transport = httpx.MockTransport(api)
    with TaskgateClient(
        URL, api_key=api_key, timeout=TIMEOUT, task_timeout=TASK_TIMEOUT, transport=transport
    ) as client:
        result = getattr(client, method)(*args, **kwargs)
        return list(result) if method == "events" else result


def _use_async(api: Api, method: str, *args: Any, api_key: str | None = None, **kwargs: Any) -> Any:
    async def use() -> Any:
        transport = httpx.MockTransport(api)
        async with AsyncTaskgateClient(
            URL, api_key=api_key, timeout=TIMEOUT, task_timeout=TASK_TIMEOUT, transport=transport
        ) as client:
            if method == "events":
                return [item async for item in client.events(*args, **kwargs)]
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(use())


@pytest.fixture(params=[_use_sync, _use_async], ids=["sync", "async"])
def use(request: pytest.FixtureRequest) -> Use:
    """Call a method on a client of the fake api: the sync one, then the async one."""
    runner: Use = request.param
    return runner


def read_timeout(request: httpx.Request) -> float:
    timeout: float = request.extensions["timeout"]["read"]
    return timeout


# --- requests and answers -------------------------------------------------------------------------

SUBMITTED = SubmittedResponse(task_id=TASK, links=TaskLinks.for_task(TASK))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
SMALL = ThumbnailResult(image=base64.b64encode(PNG[:40]), width=32, height=16)


def thumbnail_args() -> ThumbnailArgs:
    return ThumbnailArgs(image=base64.b64encode(PNG), width=64, height=64)


def completed(spec: TaskSpec[Any, Any], result: BaseModel, time: float = 0.8) -> BaseModel:
    """The `200` of the type's run operation, as the api builds it."""
    return completed_model(spec).model_validate({"result": result, "time": time, "task_id": TASK})


def test_submit_by_spec_sends_its_args_model(use: Use) -> None:
    api = fake(answer(202, SUBMITTED))

    assert use(api, "submit", PROCESS, ProcessArgs(delay=2.5)) == SUBMITTED
    assert (api.last.method, api.last.url) == ("POST", httpx.URL(URL + submit_path(PROCESS)))
    assert json.loads(api.last.content) == {"delay": 2.5}
    assert api.last.headers["content-type"] == "application/json"
    assert IDEMPOTENCY_HEADER not in api.last.headers
    assert "authorization" not in api.last.headers
    assert api.last.headers["user-agent"].startswith("taskgate-client/")


def test_a_model_travels_as_its_json(use: Use) -> None:
    api = fake(answer(202, SUBMITTED))

    use(api, "submit", THUMBNAIL, thumbnail_args())

    assert api.last.url.path == submit_path(THUMBNAIL)
    # What the api reads back with the same model is what was sent.
    assert ThumbnailArgs.model_validate_json(api.last.content) == thumbnail_args()
    assert json.loads(api.last.content)["image"] == base64.b64encode(PNG).decode()


@pytest.mark.parametrize(
    ("task", "args", "path", "body"),
    [
        (
            "acme.weekly-report",
            {"week": 47, "tags": ["a"]},
            submit_path("acme.weekly-report"),
            {"week": 47, "tags": ["a"]},
        ),
        (PROCESS, {"delay": 1}, submit_path(PROCESS), {"delay": 1}),
        ("process", None, submit_path(PROCESS), {}),
        # A name not checked here stays one path segment.
        ("a/b", ProcessArgs(delay=3), submit_path("a%2Fb"), {"delay": 3}),
    ],
    ids=["name and mapping", "spec and mapping", "name and no args", "name quoted"],
)
def test_submit_by_name_or_with_a_mapping(use: Use, task: Any, args: Any, path: str, body: Any) -> None:
    api = fake(answer(202, SUBMITTED))

    assert use(api, "submit", task, args) == SUBMITTED
    assert api.last.url.raw_path == path.encode()
    assert json.loads(api.last.content) == body


def test_keys_travel_in_headers(use: Use) -> None:
    api = fake(answer(202, SUBMITTED))

    use(api, "submit", PROCESS, idempotency_key="order-17", api_key="s3cret")

    assert api.last.headers[IDEMPOTENCY_HEADER] == "order-17"
    assert api.last.headers["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("method", ["submit", "run"])
def test_a_callback_url_travels_as_a_query_parameter(use: Use, method: str) -> None:
    api = fake(answer(202, SUBMITTED) if method == "submit" else answer(200, completed(THUMBNAIL, SMALL)))

    use(api, method, THUMBNAIL, thumbnail_args(), callback_url="https://hooks.example.com/t?x=1")

    assert api.last.url.params["callback_url"] == "https://hooks.example.com/t?x=1"
    assert ThumbnailArgs.model_validate_json(api.last.content) == thumbnail_args()


def test_arguments_the_api_must_judge_reach_it(use: Use) -> None:
    api = fake(answer(422, ValidationErrorResponse(detail=[])))

    with pytest.raises(InvalidRequestError):
        use(api, "submit", PROCESS, {"delay": float("nan")})
    assert api.last.content == b'{"delay": NaN}'


def test_an_unknown_task_type_names_the_known_ones(use: Use) -> None:
    unknown = UnknownTaskTypeResponse(
        detail="unknown task type 'resize'; known: process, thumbnail", known=["process", "thumbnail"]
    )

    with pytest.raises(TaskTypeNotFoundError, match="unknown task type 'resize'") as caught:
        use(fake(answer(404, unknown)), "submit", "resize", {})
    assert isinstance(caught.value, NotFoundError)
    assert caught.value.known == ["process", "thumbnail"]
    assert (caught.value.status_code, caught.value.body.detail) == (404, unknown.detail)


def test_run_answers_the_result_as_the_spec_s_model(use: Use) -> None:
    api = fake(answer(200, completed(THUMBNAIL, SMALL)))

    result = use(api, "run", THUMBNAIL, thumbnail_args(), idempotency_key="k")

    assert type(result) is ThumbnailResult
    assert result == SMALL
    assert (api.last.method, api.last.url.path) == ("POST", run_path(THUMBNAIL))
    assert api.last.headers[IDEMPOTENCY_HEADER] == "k"
    # The api holds the request for up to its TASK_TIMEOUT before it answers.
    assert read_timeout(api.last) == TIMEOUT + TASK_TIMEOUT
    assert len(api.requests) == 1


def test_run_by_name_answers_the_result_s_json(use: Use) -> None:
    api = fake(answer(200, {"status": "completed", "result": {"pages": 3}, "time": 1.5, "task_id": TASK}))

    assert use(api, "run", "acme.report", {"week": 47}) == {"pages": 3}
    assert api.last.url.path == run_path("acme.report")


def test_run_is_typed_by_the_spec() -> None:
    # mypy checks what each call is typed as; the asserts check what it is.
    api = fake(answer(200, completed(THUMBNAIL, SMALL)))
    with TaskgateClient(URL, transport=httpx.MockTransport(api)) as client:
        typed = assert_type(client.run(THUMBNAIL, thumbnail_args()), ThumbnailResult)
        raw = client.run("thumbnail", thumbnail_args())
    assert typed == SMALL
    assert raw == SMALL.model_dump(mode="json")


async def test_run_is_typed_by_the_spec_async() -> None:
    api = fake(answer(200, completed(PROCESS, ProcessResult(delay=2))))
    async with AsyncTaskgateClient(URL, transport=httpx.MockTransport(api)) as client:
        typed = assert_type(await client.run(PROCESS, ProcessArgs(delay=2)), ProcessResult)
    assert typed == ProcessResult(delay=2)


def test_run_keeps_waiting_for_a_pending_task(use: Use) -> None:
    done = view(TaskState.COMPLETED, 100, result=SMALL.model_dump(mode="json"))
    api = fake(
        answer(202, PendingResponse(time=TASK_TIMEOUT, task_id=TASK)),
        answer(200, view(TaskState.RUNNING, 50)),
        answer(200, done),
    )

    assert use(api, "run", THUMBNAIL, thumbnail_args(), timeout=60) == SMALL
    assert [(request.method, request.url.path) for request in api.requests] == [
        ("POST", run_path(THUMBNAIL)),
        ("GET", f"/tasks/{TASK}"),
        ("GET", f"/tasks/{TASK}"),
    ]
    assert [float(request.url.params["wait"]) for request in api.requests[1:]] == [TASK_TIMEOUT] * 2


def test_run_waits_within_its_timeout() -> None:
    now = [100.0]
    plan = running(PROCESS, None, None, task_timeout=5, timeout=12, clock=lambda: now[0])

    assert next(plan).path == run_path(PROCESS)
    now[0] += 5  # the api held the request for its TASK_TIMEOUT
    asked = [plan.send(PendingResponse(time=5, task_id=TASK)).params["wait"]]
    now[0] += 5
    asked.append(plan.send(view(TaskState.RUNNING)).params["wait"])
    now[0] += 2
    with pytest.raises(TaskPendingError, match=f"task {TASK} is still running after 12.00 s") as caught:
        plan.send(view(TaskState.RUNNING, 99))

    assert asked == ["5", "2.0"]
    assert caught.value.task_id == TASK
    assert caught.value.view == view(TaskState.RUNNING, 99)


def test_run_by_default_waits_as_long_as_the_api_holds_it() -> None:
    now = [100.0]
    plan = running(PROCESS, None, None, task_timeout=5, timeout=None, clock=lambda: now[0])

    next(plan)
    now[0] += 5
    # Out of time, but the task may have ended since the api answered: read once, without waiting.
    assert plan.send(PendingResponse(time=5, task_id=TASK)).params == {}
    with pytest.raises(StopIteration) as ended:
        plan.send(view(TaskState.COMPLETED, 100, result={"delay": 7}))
    assert ended.value.value == ProcessResult(delay=7)


def test_run_of_a_task_still_pending_raises_with_its_id(use: Use) -> None:
    api = fake(
        answer(202, PendingResponse(time=TASK_TIMEOUT, task_id=TASK)), answer(200, view(TaskState.QUEUED))
    )

    with pytest.raises(TaskPendingError, match=f"task {TASK} is still queued") as caught:
        use(api, "run", PROCESS, ProcessArgs(delay=40), timeout=0)
    assert caught.value.task_id == TASK
    assert len(api.requests) == 2


def test_run_of_a_task_that_fails_at_once(use: Use) -> None:
    failed = FailedResponse(error="cannot identify image file", time=0.2, task_id=TASK)

    with pytest.raises(TaskFailedError, match=f"task {TASK} failed: cannot identify image file") as caught:
        use(fake(answer(500, failed)), "run", THUMBNAIL, thumbnail_args())
    assert (caught.value.status_code, caught.value.body) == (500, failed)


def test_run_of_a_task_that_fails_while_waited_for(use: Use) -> None:
    api = fake(
        answer(202, PendingResponse(time=TASK_TIMEOUT, task_id=TASK)),
        answer(200, view(TaskState.FAILED, 100, error="time limit exceeded")),
    )

    with pytest.raises(TaskFailedError, match=f"task {TASK} failed: time limit exceeded") as caught:
        use(api, "run", "process", {"delay": 40}, timeout=60)
    assert caught.value.status_code == 200
    assert (caught.value.body.task_id, caught.value.body.error) == (TASK, "time limit exceeded")


def test_run_of_a_task_cancelled_while_waited_for(use: Use) -> None:
    cancelled = view(TaskState.CANCELLED, 40, error="cancelled by request")
    api = fake(answer(202, PendingResponse(time=TASK_TIMEOUT, task_id=TASK)), answer(200, cancelled))

    with pytest.raises(
        TaskCancelledError, match=f"task {TASK} was cancelled: cancelled by request"
    ) as caught:
        use(api, "run", PROCESS, timeout=60)
    assert caught.value.view == cancelled


@pytest.mark.parametrize(
    "reply",
    [
        answer(200, completed(PROCESS, ProcessResult(delay=1))),
        answer(202, PendingResponse(task_id=TASK, time=5)),
    ],
    ids=["answered", "waited for"],
)
def test_a_result_that_is_not_the_spec_s_model_is_an_unexpected_answer(
    use: Use, reply: httpx.Response
) -> None:
    api = fake(reply, answer(200, view(TaskState.COMPLETED, 100, result={"delay": 1, "result": "ok"})))

    with pytest.raises(ApiError, match=f"the result of task {TASK} is not a ThumbnailResult") as caught:
        use(api, "run", THUMBNAIL, thumbnail_args(), timeout=60)
    assert type(caught.value) is ApiError


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (answer(201, {"task_id": TASK}), "201 with .* not 200 completed or 202 pending"),
        (answer(200, {"status": "completed"}), "not a Completed"),
    ],
    ids=["other success", "no result"],
)
def test_run_answers_outside_the_contract(use: Use, reply: httpx.Response, says: str) -> None:
    with pytest.raises(ApiError, match=says):
        use(fake(reply), "run", PROCESS)


def test_get_reads_a_task_by_its_quoted_id(use: Use) -> None:
    running = view(TaskState.RUNNING, 40, worker="w1@host")
    api = fake(answer(200, running))

    assert use(api, "get", "a/b c") == running
    assert api.last.url.raw_path == b"/tasks/a%2Fb%20c"
    assert not api.last.url.params
    assert read_timeout(api.last) == TIMEOUT


def test_get_may_wait_for_the_end(use: Use) -> None:
    api = fake(answer(200, view(TaskState.COMPLETED, 100, result="ok")))

    use(api, "get", TASK, wait=2.5)

    assert api.last.url.params["wait"] == "2.5"
    assert read_timeout(api.last) == TIMEOUT + 2.5


def test_wait_long_polls_until_the_task_ends(use: Use) -> None:
    done = view(TaskState.COMPLETED, 100, result="ok")
    api = fake(
        answer(200, view(TaskState.QUEUED)), answer(200, view(TaskState.RUNNING, 50)), answer(200, done)
    )

    assert use(api, "wait", TASK, 60) == done
    assert [float(request.url.params["wait"]) for request in api.requests] == [TASK_TIMEOUT] * 3


def test_wait_answers_the_last_view_when_time_runs_out(use: Use) -> None:
    running = view(TaskState.RUNNING, 10)
    api = fake(answer(200, running))

    assert use(api, "wait", TASK, 0.05) == running
    assert all(0 < float(request.url.params["wait"]) <= 0.05 for request in api.requests)


def test_waiting_asks_for_no_more_than_the_time_left() -> None:
    now = [100.0]
    plan = waiting(TASK, 12, task_timeout=5, clock=lambda: now[0])

    asked = [next(plan).params["wait"]]
    for passed in (5, 5):
        now[0] += passed
        asked.append(plan.send(view(TaskState.RUNNING)).params["wait"])
    now[0] += 2
    with pytest.raises(StopIteration) as ended:
        plan.send(view(TaskState.RUNNING, 99))

    assert asked == ["5", "5", "2.0"]
    assert ended.value.value == view(TaskState.RUNNING, 99)


def test_waiting_no_time_at_all_reads_the_task_once() -> None:
    plan = waiting(TASK, 0, task_timeout=5)

    assert next(plan).params == {}
    with pytest.raises(StopIteration):
        plan.send(view(TaskState.QUEUED))


def test_cancel(use: Use) -> None:
    cancelled = view(TaskState.CANCELLED, error="cancelled by request")
    api = fake(answer(202, cancelled))

    assert use(api, "cancel", TASK) == cancelled
    assert (api.last.method, api.last.url.path) == ("DELETE", f"/tasks/{TASK}")


# --- errors ---------------------------------------------------------------------------------------

INVALID = ValidationErrorResponse(
    detail=[ErrorDetail(loc=["body", "delay"], msg="Input should be greater than or equal to 0", type="x")]
)
UNAVAILABLE = ServiceUnavailableResponse(service="redis", detail="Redis is unreachable at 127.0.0.1:6379")
CONFLICT = ConflictResponse(detail=f"task {TASK} has already completed", status=TaskState.COMPLETED)
MISSING = NotFoundResponse(detail=f"task {TASK} was never submitted or has expired")

ERRORS = {
    "422": (answer(422, INVALID), InvalidRequestError, INVALID, "body.delay: Input should be greater"),
    "401": (answer(401, {"detail": "Not authenticated"}), UnauthorizedError, "Not authenticated", "unauth"),
    "404": (answer(404, MISSING), NotFoundError, MISSING, "never submitted"),
    "404 type": (
        answer(404, {"detail": "unknown task type 'x'; known: process", "known": ["process"]}),
        TaskTypeNotFoundError,
        NotFoundResponse(detail="unknown task type 'x'; known: process"),
        "unknown task type",
    ),
    "409": (answer(409, CONFLICT), ConflictError, CONFLICT, "already completed"),
    "503": (answer(503, UNAVAILABLE), ServiceUnavailableError, UNAVAILABLE, "Redis is unreachable"),
    "500 unexpected": (
        answer(500, {"detail": "the api failed unexpectedly; its log names error 3f2a", "error_id": "3f2a"}),
        ServerError,
        '{"detail":"the api failed unexpectedly; its log names error 3f2a","error_id":"3f2a"}',
        "^the api failed unexpectedly; its log names error 3f2a$",
    ),
    "500 text": (
        httpx.Response(500, text="Internal Server Error"),
        ServerError,
        "Internal Server Error",
        "500",
    ),
    "502 page": (
        httpx.Response(502, text="<html>bad gateway</html>"),
        ServerError,
        "<html>bad gateway</html>",
        "502",
    ),
    "404 not ours": (httpx.Response(404, text="no such page"), ApiError, "no such page", "not an answer"),
    "413": (answer(413, {"detail": "too large"}), ApiError, '{"detail":"too large"}', r"\(413\): too large"),
    "418": (answer(418, ["teapot"]), ApiError, '["teapot"]', "418 with .* not an answer"),
    "200 not a view": (answer(200, {"hello": "world"}), ApiError, '{"hello":"world"}', "not a TaskView"),
}


@pytest.mark.parametrize(("reply", "kind", "body", "says"), ERRORS.values(), ids=ERRORS.keys())
def test_error_answers_raise_typed_errors(
    use: Use, reply: httpx.Response, kind: type[ApiError[Any]], body: Any, says: str
) -> None:
    with pytest.raises(TaskgateError, match=says) as caught:
        use(fake(reply), "get", TASK)

    assert type(caught.value) is kind
    assert isinstance(caught.value, ApiError)
    assert (caught.value.status_code, caught.value.body) == (reply.status_code, body)


def test_unavailable_names_the_service(use: Use) -> None:
    with pytest.raises(ServiceUnavailableError) as caught:
        use(fake(answer(503, UNAVAILABLE)), "submit", PROCESS)
    assert caught.value.service == "redis"


def test_conflict_carries_the_task_state(use: Use) -> None:
    with pytest.raises(ConflictError) as caught:
        use(fake(answer(409, CONFLICT)), "cancel", TASK)
    assert caught.value.body.status is TaskState.COMPLETED


@pytest.mark.parametrize(
    ("problem", "says"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), f"cannot reach the api at {URL}: .*refused"),
        (httpx.ReadTimeout("timed out"), f"the api at {URL} did not answer in time"),
        (httpx.RemoteProtocolError(""), f"cannot reach the api at {URL}: RemoteProtocolError$"),
    ],
    ids=["refused", "timeout", "unexplained"],
)
def test_transport_problems_raise_a_connection_error(use: Use, problem: Exception, says: str) -> None:
    with pytest.raises(ApiConnectionError, match=says):
        use(fake(problem), "get", TASK)


# --- event streams --------------------------------------------------------------------------------

QUEUED, HALF, DONE = view(TaskState.QUEUED), view(TaskState.RUNNING, 50), view(TaskState.COMPLETED, 100)


def stream(*chunks: bytes, then: Exception | None = None) -> httpx.Response:
    return httpx.Response(200, headers=SSE, stream=Chunks(*chunks, then=then))


def kinds(events: list[TaskEvent]) -> list[tuple[str, str, TaskState]]:
    return [(item.type.value, item.id, item.task.status) for item in events]


def test_events_from_snapshot_to_the_end(use: Use) -> None:
    # A view over two data lines (they join with a newline, which JSON takes as space), a heartbeat between.
    head, tail = HALF.model_dump_json().split(",", 1)
    body = (
        b": ping\n\n"
        + event("snapshot", QUEUED, "1")
        + b"event: hello-from-the-future\ndata: {}\n\n"
        + f"id: 2\nevent: progress\ndata: {head},\n: ping\ndata: {tail}\n\n".encode()
        + event("state", DONE, "3")
    )
    api = fake(stream(*[body[i : i + 7] for i in range(0, len(body), 7)]))

    events = use(api, "events", TASK)

    assert kinds(events) == [
        ("snapshot", "1", "queued"),
        ("progress", "2", "running"),
        ("state", "3", "completed"),
    ]
    assert events[1].task.progress.percent == 50
    assert events[-1].last
    assert api.last.url.path == f"/tasks/{TASK}/events"
    assert api.last.headers["accept"] == "text/event-stream"
    assert "last-event-id" not in api.last.headers


def test_events_resume_after_a_given_id(use: Use) -> None:
    api = fake(stream(event("state", DONE, "9")))

    use(api, "events", TASK, last_event_id="8")

    assert api.last.headers["last-event-id"] == "8"


@pytest.mark.parametrize(
    "then", [httpx.RemoteProtocolError("peer closed connection"), None], ids=["dropped", "closed"]
)
def test_a_stream_that_ends_early_is_resumed_after_the_last_event(use: Use, then: Exception | None) -> None:
    # The first connection breaks off in the middle of its second event.
    first = stream(
        b"retry: 0\n", event("snapshot", QUEUED, "1"), event("progress", HALF, "2")[:30], then=then
    )
    api = fake(first, stream(event("progress", HALF, "2"), event("state", DONE, "3")))

    events = use(api, "events", TASK)

    assert [item.id for item in events] == ["1", "2", "3"]
    assert [request.headers.get("last-event-id") for request in api.requests] == [None, "1"]


def test_reading_stops_at_the_terminal_event(use: Use) -> None:
    body = Chunks(event("state", DONE, "3"), then=AssertionError("read past the terminal event"))
    api = fake(httpx.Response(200, headers=SSE, stream=body))

    assert [item.id for item in use(api, "events", TASK)] == ["3"]
    assert body.closed


def test_stopping_early_closes_the_connection() -> None:
    body = Chunks(event("snapshot", QUEUED, "1"), event("progress", HALF, "2"))
    api = fake(httpx.Response(200, headers=SSE, stream=body))
    with (
        TaskgateClient(URL, transport=httpx.MockTransport(api)) as client,
        closing(client.events(TASK)) as events,
    ):
        for _ in events:
            break
    assert body.closed


async def test_stopping_early_closes_the_connection_async() -> None:
    body = Chunks(event("snapshot", QUEUED, "1"), event("progress", HALF, "2"))
    api = fake(httpx.Response(200, headers=SSE, stream=body))
    async with (
        AsyncTaskgateClient(URL, transport=httpx.MockTransport(api)) as client,
        aclosing(client.events(TASK)) as events,
    ):
        async for _ in events:
            break
    assert body.closed


def test_a_stream_that_keeps_breaking_off_without_events_is_given_up(use: Use) -> None:
    api = fake(
        stream(b"retry: 0\n", event("snapshot", QUEUED, "1")),
        stream(b": ping\n", then=httpx.ReadError("reset")),
    )

    with pytest.raises(ApiConnectionError, match=r"broke off 6 times in a row.*reset"):
        use(api, "events", TASK)
    assert len(api.requests) == 1 + MAX_EVENTLESS_CONNECTIONS + 1


def test_an_unreachable_api_is_reported_at_once(use: Use) -> None:
    api = fake(httpx.ConnectError("Connection refused"))

    with pytest.raises(ApiConnectionError, match="cannot reach the api"):
        use(api, "events", TASK)
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (answer(404, MISSING), NotFoundError),
        (answer(200, DONE), ApiError),  # JSON, not an event stream
        (stream(b"event: state\ndata: {not json\n\n"), ApiError),
    ],
    ids=["unknown task", "not a stream", "not a task view"],
)
def test_event_stream_refusals(use: Use, reply: httpx.Response, kind: type[Exception]) -> None:
    with pytest.raises(kind) as caught:
        use(fake(reply), "events", TASK)
    assert type(caught.value) is kind


def test_reconnecting_waits_as_the_server_asked_or_a_second() -> None:
    following = TaskEventStream(TASK)
    assert following.next_connection() == 0
    following.call()
    following.accepts(httpx.Response(200, headers=SSE))
    assert following.next_connection() == RECONNECT_DELAY
    following.call()
    following.feed(b"retry: 250\n")
    assert following.next_connection() == 0.25


# --- packaging ------------------------------------------------------------------------------------


def test_contracts_never_import_the_client() -> None:
    code = "import sys, taskgate_contracts; print(sorted({'httpx', 'rich'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
