"""Every request the client makes and how its answer is read: the part the sync and async clients share.

A `Call` is pure data — the request to make and the function that reads its answer — so each client only
sends it, and the rules of the api live here once. A `Plan` chains calls, each decided by the answer to
the one before.
"""

import json
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from taskgate_client.errors import ApiConnectionError, error_for, unexpected_answer
from taskgate_client.version import __version__
from taskgate_contracts import operations
from taskgate_contracts.history import DeadLetterList, ReplayedResponse, TaskPage
from taskgate_contracts.requests import IDEMPOTENCY_HEADER
from taskgate_contracts.responses import SubmittedResponse, TaskState, TaskView
from taskgate_contracts.tasks import TaskSpec

AnswerT = TypeVar("AnswerT")
ResultT = TypeVar("ResultT")
ModelT = TypeVar("ModelT", bound=BaseModel)

#: A task type as the client names it: by its spec, or by its name alone when it is not installed here.
TaskType = TaskSpec[Any, Any] | str
#: A task's arguments: an instance of its args model, or their JSON as a mapping; None sends `{}`.
TaskArgs = BaseModel | Mapping[str, Any] | None

DEFAULT_URL = "http://127.0.0.1:8000"
#: The api's own default TASK_TIMEOUT: how long it may hold a run operation, and the longest `?wait=`.
DEFAULT_TASK_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Call(Generic[AnswerT]):
    method: str
    path: str
    read: Callable[[httpx.Response], AnswerT]
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    #: Seconds the api may hold the request on purpose before answering; the read timeout grows by it.
    holds: float = 0.0

    def request(self, http: httpx.Client | httpx.AsyncClient, timeout: float) -> httpx.Request:
        return http.build_request(
            self.method,
            self.path,
            params=self.params,
            headers=self.headers,
            content=self.content,
            timeout=httpx.Timeout(timeout, read=timeout + self.holds),
        )


#: Several calls in a row; a client runs it with its own I/O, sending each call's answer back in.
Plan = Generator[Call[Any], Any, ResultT]


def ask(call: Call[AnswerT]) -> Generator[Call[AnswerT], AnswerT, AnswerT]:
    """One step of a plan: `answer = yield from ask(call)` is its answer, typed as the call reads it."""
    return (yield call)


def client_headers(api_key: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"taskgate-client/{__version__}"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def connection_error(base_url: str, problem: httpx.TransportError) -> ApiConnectionError:
    if isinstance(problem, httpx.TimeoutException):
        return ApiConnectionError(f"the api at {base_url} did not answer in time ({type(problem).__name__})")
    return ApiConnectionError(f"cannot reach the api at {base_url}: {str(problem) or type(problem).__name__}")


def task_path(task_id: str) -> str:
    return f"/tasks/{quote(task_id, safe='')}"


def _operand(task: TaskType) -> TaskType:
    """The task type as `operations` takes it: a name not checked here is quoted to stay one path segment."""
    return task if isinstance(task, TaskSpec) else quote(task, safe="")


def submit_path(task: TaskType) -> str:
    return operations.submit_path(_operand(task))


def run_path(task: TaskType) -> str:
    return operations.run_path(_operand(task))


def read_model(response: httpx.Response, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise unexpected_answer(response, f"a {model.__name__}") from None


def _expect(model: type[ModelT]) -> Callable[[httpx.Response], ModelT]:
    """Reads a success answer as `model`, and any other as the error it stands for."""

    def read(response: httpx.Response) -> ModelT:
        if not response.is_success:
            raise error_for(response)
        return read_model(response, model)

    return read


def post_args(
    path: str,
    args: TaskArgs,
    idempotency_key: str | None,
    read: Callable[[httpx.Response], AnswerT],
    holds: float = 0.0,
    callback_url: str | None = None,
) -> Call[AnswerT]:
    """A task type's operation: its arguments as the JSON body, and where its webhook goes, if anywhere."""
    headers = {"Content-Type": "application/json"}
    params = {} if callback_url is None else {"callback_url": callback_url}
    if idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    # By alias: the api validates the body with the same model, which reads its fields by their aliases.
    data = args.model_dump(mode="json", by_alias=True) if isinstance(args, BaseModel) else dict(args or {})
    # json.dumps, not a model: the api judges the arguments (its limits are its own), and NaN or infinity
    # must reach it to be refused with its 422 rather than fail here inside an encoder.
    content = json.dumps(data).encode()
    return Call("POST", path, read, headers=headers, content=content, params=params, holds=holds)


def submit(
    task: TaskType, args: TaskArgs, idempotency_key: str | None, callback_url: str | None = None
) -> Call[SubmittedResponse]:
    read = _expect(SubmittedResponse)
    return post_args(submit_path(task), args, idempotency_key, read, callback_url=callback_url)


def get(task_id: str, wait: float | None = None) -> Call[TaskView]:
    if wait is None:
        return Call("GET", task_path(task_id), _expect(TaskView))
    return Call("GET", task_path(task_id), _expect(TaskView), params={"wait": str(wait)}, holds=wait)


def cancel(task_id: str) -> Call[TaskView]:
    return Call("DELETE", task_path(task_id), _expect(TaskView))


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """What `GET /tasks` narrows the history to; None is any."""

    status: TaskState | None = None
    task: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def params(self) -> dict[str, str]:
        given = {"status": self.status, "task": self.task, "since": self.since, "until": self.until}
        return {
            name: value.isoformat() if isinstance(value, datetime) else str(value)
            for name, value in given.items()
            if value is not None
        }


def list_tasks(which: TaskFilter, limit: int, cursor: str | None) -> Call[TaskPage]:
    params = {**which.params(), "limit": str(limit)}
    if cursor is not None:
        params["cursor"] = cursor
    return Call("GET", "/tasks", _expect(TaskPage), params=params)


def every_task(which: TaskFilter, limit: int) -> Generator[Call[TaskPage], TaskPage, list[TaskView]]:
    """Page after page until the last: every task that matches, newest first."""
    tasks: list[TaskView] = []
    cursor = None
    while True:
        page = yield from ask(list_tasks(which, limit, cursor))
        tasks += page.tasks
        if page.next_cursor is None:
            return tasks
        cursor = page.next_cursor


def dead_letters(limit: int) -> Call[DeadLetterList]:
    return Call("GET", "/dead-letters", _expect(DeadLetterList), params={"limit": str(limit)})


def replay(task_id: str) -> Call[ReplayedResponse]:
    return Call("POST", f"/dead-letters/{quote(task_id, safe='')}/replay", _expect(ReplayedResponse))


def waiting(
    task_id: str, timeout: float, task_timeout: float, clock: Callable[[], float] = time.monotonic
) -> Plan[TaskView]:
    """Long-polls in steps the api accepts (`?wait=` of at most its TASK_TIMEOUT) until the task ends.

    Answers the last view: terminal, or as it stood when `timeout` ran out.
    """
    deadline = clock() + timeout
    while True:
        remaining = deadline - clock()
        view = yield from ask(get(task_id, min(remaining, task_timeout) if remaining > 0 else None))
        if view.status.terminal or clock() >= deadline:
            return view
