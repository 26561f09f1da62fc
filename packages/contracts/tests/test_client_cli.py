"""The `taskgate` command through its console entry point, against a fake api: output and exit codes."""

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points

import httpx
import pytest

from taskgate_contracts import (
    CompletedResponse,
    ConflictResponse,
    ErrorDetail,
    FailedResponse,
    NotFoundResponse,
    PendingResponse,
    Progress,
    ServiceUnavailableResponse,
    SubmittedResponse,
    TaskLinks,
    TaskState,
    TaskView,
    ValidationErrorResponse,
)
from taskgate_contracts.client import TaskgateClient, cli
from taskgate_contracts.version import __version__

TASK = "6f1c0000-0000-0000-0000-000000000002"
QUEUED_AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def json_answer(status: int, body: object) -> httpx.Response:
    if hasattr(body, "model_dump_json"):
        return httpx.Response(
            status, content=body.model_dump_json(), headers={"content-type": "application/json"}
        )
    return httpx.Response(status, json=body)


def task(status: TaskState, percent: float = 0, **fields: object) -> TaskView:
    return TaskView.model_validate(
        {"task_id": TASK, "status": status, "progress": Progress(percent=percent), **fields}
    )


def finished(status: TaskState, **fields: object) -> TaskView:
    return task(status, 100, queued_at=QUEUED_AT, finished_at=QUEUED_AT + timedelta(seconds=2.5), **fields)


def sse(*views: TaskView) -> httpx.Response:
    body = "".join(
        f": ping\r\nid: {number}\r\nevent: {'snapshot' if number == 0 else 'progress'}\r\n"
        f"data: {view.model_dump_json()}\r\n\r\n"
        for number, view in enumerate(views)
    )
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


SUBMITTED = json_answer(202, SubmittedResponse(task_id=TASK, links=TaskLinks.for_task(TASK)))


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """What the command sent; the api's answers come from `serve`."""
    monkeypatch.delenv("TASKGATE_URL", raising=False)
    monkeypatch.delenv("TASKGATE_API_KEY", raising=False)
    return []


def serve(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    *routes: tuple[str, httpx.Response | BaseException],
) -> None:
    """Answer each request whose path ends with a route's suffix (first match) with its answer."""

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = next(answer for suffix, answer in routes if request.url.path.endswith(suffix))
        if isinstance(answer, BaseException):
            raise answer
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    transport = httpx.MockTransport(handle)
    monkeypatch.setattr(cli, "TaskgateClient", functools.partial(TaskgateClient, transport=transport))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_console_script_is_main() -> None:
    (script,) = entry_points(group="console_scripts", name="taskgate")
    assert script.load() is cli.main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert (exited.value.code, capsys.readouterr().out) == (0, f"taskgate {__version__}\n")


def test_submit_prints_the_task_id(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("/tasks", SUBMITTED))

    assert run(capsys, "submit", "--delay", "20", "--idempotency-key", "k1") == (0, f"{TASK}\n", "")
    (request,) = requests
    assert str(request.url) == "http://127.0.0.1:8000/tasks"
    assert json.loads(request.content) == {"delay": 20}
    assert request.headers["idempotency-key"] == "k1"
    assert "authorization" not in request.headers


def test_url_and_key_come_from_the_environment_or_the_options(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("/tasks", SUBMITTED))
    monkeypatch.setenv("TASKGATE_URL", "http://from-env:9000")
    monkeypatch.setenv("TASKGATE_API_KEY", "env-key")

    run(capsys, "submit", "--delay", "1")
    run(capsys, "--url", "https://from-option", "--api-key", "option-key", "submit", "--delay", "1")

    assert [(str(r.url), r.headers["authorization"]) for r in requests] == [
        ("http://from-env:9000/tasks", "Bearer env-key"),
        ("https://from-option/tasks", "Bearer option-key"),
    ]


@pytest.mark.parametrize(
    ("end", "code", "outcome"),
    [
        (finished(TaskState.COMPLETED, result="Запрос выполнен успешно"), 0, "completed in 2.50 s: Запрос"),
        (finished(TaskState.FAILED, error="time limit exceeded"), 1, "failed in 2.50 s: time limit exceeded"),
        (finished(TaskState.CANCELLED, error="cancelled by request"), 1, "cancelled in 2.50 s: cancelled by"),
    ],
    ids=["completed", "failed", "cancelled"],
)
def test_follow_shows_progress_and_ends_with_the_outcome(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    end: TaskView,
    code: int,
    outcome: str,
) -> None:
    stream = sse(
        task(TaskState.QUEUED),
        task(TaskState.RUNNING, 40, progress={"percent": 40, "message": "slept 8 of 20 s"}),
        end,
    )
    serve(monkeypatch, requests, ("/events", stream), ("/tasks", SUBMITTED))

    status, out, err = run(capsys, "submit", "--delay", "20", "--follow")

    assert status == code
    task_id, last = out.splitlines()
    assert task_id == TASK
    assert last.startswith(outcome)
    # The bar, as it stood at the end (a live bar redraws in place on a terminal).
    assert end.status.value in err
    assert "100%" in err
    assert requests[-1].headers["accept"] == "text/event-stream"


def test_stopping_a_follow_leaves_the_task_running(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("/events", KeyboardInterrupt()), ("/tasks", SUBMITTED))

    code, out, err = run(capsys, "submit", "--delay", "20", "--follow")

    assert (code, out) == (130, f"{TASK}\n")
    assert f"the task keeps running (taskgate cancel {TASK})" in err


def test_process_completed_or_pending(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(
        monkeypatch,
        requests,
        ("/process", json_answer(200, CompletedResponse(result="ok", time=2.003, task_id=TASK))),
    )
    assert run(capsys, "--task-timeout", "60", "process", "--delay", "2") == (
        0,
        f"completed in 2.00 s: ok (task {TASK})\n",
        "",
    )
    # The api may hold the request for its whole TASK_TIMEOUT before it answers.
    assert requests[-1].extensions["timeout"]["read"] > 60

    serve(monkeypatch, requests, ("/process", json_answer(202, PendingResponse(time=30.01, task_id=TASK))))
    code, out, _ = run(capsys, "process", "--delay", "40")
    assert code == 0
    assert out.startswith("pending after 30.01 s: Пока не можем")
    assert f"taskgate status {TASK}" in out


def test_status_shows_every_field_that_is_set(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    running = task(
        TaskState.RUNNING,
        progress={"percent": 40, "current": 8, "total": 20, "message": "slept 4 of 10 s"},
        queued_at=QUEUED_AT,
        worker="worker1@host",
    )
    serve(monkeypatch, requests, ("/tasks/" + TASK, json_answer(200, running)))

    code, out, err = run(capsys, "status", TASK, "--wait", "3")

    assert (code, err) == (0, "")
    rows = [line.rstrip().split(None, 1) for line in out.splitlines()]
    assert rows == [
        ["task", TASK],
        ["status", "running"],
        ["progress", "40% (8/20) slept 4 of 10 s"],
        ["queued", "2026-11-24T10:00:00+00:00"],
        ["worker", "worker1@host"],
    ]
    assert requests[-1].url.params["wait"] == "3.0"


def test_status_of_a_task_that_reports_no_steps(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("/tasks/" + TASK, json_answer(200, task(TaskState.QUEUED))))

    _, out, _ = run(capsys, "status", TASK)

    assert out.splitlines()[2].split() == ["progress", "0%"]


def test_cancel(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    cancelled = task(TaskState.CANCELLED, error="cancelled by request")
    serve(monkeypatch, requests, (TASK, json_answer(202, cancelled)))

    assert run(capsys, "cancel", TASK) == (0, f"cancelled: cancelled by request (task {TASK})\n", "")
    assert requests[-1].method == "DELETE"


UNAVAILABLE = ServiceUnavailableResponse(
    service="rabbitmq", detail="RabbitMQ is unreachable at 127.0.0.1:5672"
)
INVALID = ValidationErrorResponse(
    detail=[ErrorDetail(loc=["body", "delay"], msg="Input should be greater than or equal to 0", type="x")]
)
FAILURES = {
    "task failed": (
        json_answer(500, FailedResponse(error="time limit exceeded", time=5.01, task_id=TASK)),
        1,
        f"task {TASK} failed: time limit exceeded",
    ),
    "invalid": (
        json_answer(422, INVALID),
        2,
        "invalid request: body.delay: Input should be greater than or equal to 0",
    ),
    "no key": (
        json_answer(401, {"detail": "a valid API key is required"}),
        2,
        "unauthorized: a valid API key is required (pass --api-key or set TASKGATE_API_KEY)",
    ),
    "unknown task": (
        json_answer(404, NotFoundResponse(detail="task x was never submitted")),
        2,
        "task x was never submitted",
    ),
    "finished": (
        json_answer(409, ConflictResponse(detail="task x has already finished", status=TaskState.COMPLETED)),
        2,
        "task x has already finished",
    ),
    "503": (json_answer(503, UNAVAILABLE), 3, "RabbitMQ is unreachable at 127.0.0.1:5672"),
    "500": (
        httpx.Response(500, text="Internal Server Error"),
        3,
        "the api failed with 500: 'Internal Server Error'",
    ),
    "unreachable": (
        httpx.ConnectError("[Errno 111] Connection refused"),
        3,
        "cannot reach the api at http://127.0.0.1:8000: [Errno 111] Connection refused",
    ),
}


@pytest.mark.parametrize(
    "command", [["process", "--delay", "1"], ["submit", "--delay", "1"], ["cancel", TASK]]
)
@pytest.mark.parametrize(("answer", "code", "message"), FAILURES.values(), ids=FAILURES.keys())
def test_errors_are_one_line_and_an_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    answer: httpx.Response | BaseException,
    code: int,
    message: str,
) -> None:
    serve(monkeypatch, requests, ("", answer))

    assert run(capsys, *command) == (code, "", f"taskgate: error: {message}\n")


def test_an_interrupt_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("", KeyboardInterrupt()))

    assert run(capsys, "status", TASK) == (130, "", "taskgate: interrupted\n")


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["submit"], "the following arguments are required: --delay"),
        (["submit", "--delay", "soon"], "invalid float value: 'soon'"),
        (["--url", "127.0.0.1:8000", "status", TASK], "not an http(s) URL: '127.0.0.1:8000'"),
        (["status"], "the following arguments are required: ID"),
    ],
)
def test_usage_errors_exit_2(
    requests: list[httpx.Request], capsys: pytest.CaptureFixture[str], argv: list[str], complaint: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)

    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err
