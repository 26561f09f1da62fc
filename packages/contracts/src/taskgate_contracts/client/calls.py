"""Every request the client makes and how its answer is read: the part the sync and async clients share.

A `Call` is pure data — the request to make and the function that reads its answer — so each client only
sends it, and the rules of the api live here once.
"""

import json
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from taskgate_contracts.client.errors import ApiConnectionError, error_for, unexpected_answer
from taskgate_contracts.requests import IDEMPOTENCY_HEADER
from taskgate_contracts.responses import CompletedResponse, PendingResponse, SubmittedResponse, TaskView
from taskgate_contracts.version import __version__

ResultT = TypeVar("ResultT")
ModelT = TypeVar("ModelT", bound=BaseModel)

DEFAULT_URL = "http://127.0.0.1:8000"
#: The api's own default TASK_TIMEOUT: how long it may hold `POST /process`, and the longest `?wait=`.
DEFAULT_TASK_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Call(Generic[ResultT]):
    method: str
    path: str
    read: Callable[[httpx.Response], ResultT]
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


def read_model(response: httpx.Response, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise unexpected_answer(response, f"a {model.__name__}") from None


def _expect(model: type[ModelT]) -> Callable[[httpx.Response], ModelT]:
    def read(response: httpx.Response) -> ModelT:
        if not response.is_success:
            raise error_for(response)
        return read_model(response, model)

    return read


def _read_outcome(response: httpx.Response) -> CompletedResponse | PendingResponse:
    if response.status_code == httpx.codes.OK:
        return read_model(response, CompletedResponse)
    if response.status_code == httpx.codes.ACCEPTED:
        return read_model(response, PendingResponse)
    if response.is_success:
        raise unexpected_answer(response, "200 completed or 202 pending")
    raise error_for(response)


def _job(
    path: str,
    delay: float,
    idempotency_key: str | None,
    read: Callable[[httpx.Response], ResultT],
    holds: float = 0.0,
) -> Call[ResultT]:
    headers = {"Content-Type": "application/json"}
    if idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    # Not `ProcessRequest`: the api judges the delay (MAX_DELAY is its own), and NaN or infinity must
    # reach it to be refused with its 422 rather than fail here inside the JSON encoder.
    body = json.dumps({"delay": delay}).encode()
    return Call("POST", path, read, headers=headers, content=body, holds=holds)


def submit(delay: float, idempotency_key: str | None) -> Call[SubmittedResponse]:
    return _job("/tasks", delay, idempotency_key, _expect(SubmittedResponse))


def process(
    delay: float, idempotency_key: str | None, task_timeout: float
) -> Call[CompletedResponse | PendingResponse]:
    return _job("/process", delay, idempotency_key, _read_outcome, holds=task_timeout)


def get(task_id: str, wait: float | None = None) -> Call[TaskView]:
    if wait is None:
        return Call("GET", task_path(task_id), _expect(TaskView))
    return Call("GET", task_path(task_id), _expect(TaskView), params={"wait": str(wait)}, holds=wait)


def cancel(task_id: str) -> Call[TaskView]:
    return Call("DELETE", task_path(task_id), _expect(TaskView))


#: Several calls in a row, each decided by the answer to the one before; a client runs it with its own I/O.
Plan = Generator[Call[ResultT], ResultT, ResultT]


def waiting(
    task_id: str, timeout: float, task_timeout: float, clock: Callable[[], float] = time.monotonic
) -> Plan[TaskView]:
    """Long-polls in steps the api accepts (`?wait=` of at most its TASK_TIMEOUT) until the task ends.

    Answers the last view: terminal, or as it stood when `timeout` ran out.
    """
    deadline = clock() + timeout
    while True:
        remaining = deadline - clock()
        view = yield get(task_id, min(remaining, task_timeout) if remaining > 0 else None)
        if view.status.terminal or clock() >= deadline:
            return view
