"""The `taskgate` command through its console entry point, against a fake api: output and exit codes."""

import base64
import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from taskgate_client import TaskgateClient, cli
from taskgate_client.version import __version__
from taskgate_contracts import (
    ConflictResponse,
    ErrorDetail,
    FailedResponse,
    NotFoundResponse,
    PendingResponse,
    Progress,
    Registry,
    RegistryError,
    ServiceUnavailableResponse,
    SubmittedResponse,
    TaskLinks,
    TaskSpec,
    TaskState,
    TaskView,
    UnknownTaskTypeResponse,
    ValidationErrorResponse,
    discover,
)
from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.builtin.thumbnail import ThumbnailArgs
from taskgate_contracts.operations import run_path, submit_path

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
    serve(monkeypatch, requests, ("", SUBMITTED))

    assert run(capsys, "submit", "process", "--arg", "delay=20", "--idempotency-key", "k1") == (
        0,
        f"{TASK}\n",
        "",
    )
    (request,) = requests
    assert str(request.url) == "http://127.0.0.1:8000" + submit_path("process")
    assert json.loads(request.content) == {"delay": 20}
    assert request.headers["idempotency-key"] == "k1"
    assert "authorization" not in request.headers


def test_url_and_key_come_from_the_environment_or_the_options(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("", SUBMITTED))
    monkeypatch.setenv("TASKGATE_URL", "http://from-env:9000")
    monkeypatch.setenv("TASKGATE_API_KEY", "env-key")

    run(capsys, "submit", "process")
    run(capsys, "--url", "https://from-option", "--api-key", "option-key", "submit", "process")

    assert [(str(r.url), r.headers["authorization"]) for r in requests] == [
        ("http://from-env:9000" + submit_path("process"), "Bearer env-key"),
        ("https://from-option" + submit_path("process"), "Bearer option-key"),
    ]


@pytest.mark.parametrize(
    ("end", "code", "outcome"),
    [
        (
            finished(TaskState.COMPLETED, task="process", result={"result": "Запрос выполнен", "delay": 20}),
            0,
            'completed in 2.50 s: {"result": "Запрос выполнен", "delay": 20}',
        ),
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
    serve(monkeypatch, requests, ("/events", stream), ("", SUBMITTED))

    status, out, err = run(capsys, "submit", "process", "--arg", "delay=20", "--follow")

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
    serve(monkeypatch, requests, ("/events", KeyboardInterrupt()), ("", SUBMITTED))

    code, out, err = run(capsys, "submit", "process", "--follow")

    assert (code, out) == (130, f"{TASK}\n")
    assert f"the task keeps running (taskgate cancel {TASK})" in err


def completed(result: object, time: float = 2.003) -> httpx.Response:
    return json_answer(200, {"status": "completed", "result": result, "time": time, "task_id": TASK})


def test_run_prints_the_result_json(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("", completed({"result": "Запрос выполнен успешно", "delay": 2})))

    code, out, err = run(capsys, "--task-timeout", "60", "run", "process", "--args", '{"delay": 2}')

    assert (code, err) == (0, "")
    assert json.loads(out) == {"result": "Запрос выполнен успешно", "delay": 2}
    assert out == '{\n  "result": "Запрос выполнен успешно",\n  "delay": 2\n}\n'
    assert requests[-1].url.path == run_path("process")
    assert json.loads(requests[-1].content) == {"delay": 2}
    # The api may hold the request for its whole TASK_TIMEOUT before it answers.
    assert requests[-1].extensions["timeout"]["read"] > 60


def test_run_keeps_waiting_for_a_pending_task(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    done = finished(TaskState.COMPLETED, task="acme.report", result={"pages": 3})
    serve(
        monkeypatch,
        requests,
        (run_path("acme.report"), json_answer(202, PendingResponse(time=30.01, task_id=TASK))),
        (TASK, json_answer(200, done)),
    )

    code, out, _ = run(capsys, "run", "acme.report", "--timeout", "90")

    assert (code, json.loads(out)) == (0, {"pages": 3})
    assert [request.method for request in requests] == ["POST", "GET"]
    assert float(requests[-1].url.params["wait"]) == 30


def test_run_of_a_task_still_pending_names_it(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(
        monkeypatch,
        requests,
        (run_path("process"), json_answer(202, PendingResponse(time=30.01, task_id=TASK))),
        (TASK, json_answer(200, task(TaskState.RUNNING, 40))),
    )

    code, out, err = run(capsys, "run", "process", "--arg", "delay=40", "--timeout", "0")

    assert (code, out) == (1, "")
    assert err.startswith(f"taskgate: error: task {TASK} is still running after ")
    assert err.endswith(f" s; it keeps running (taskgate status {TASK})\n")


def test_run_shows_long_strings_by_their_length_and_writes_them_whole_with_out(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    image = base64.b64encode(bytes(range(256)) * 36).decode()  # 12,288 base64 characters
    result = {"image": image, "width": 64, "height": 48, "format": "png", "note": "a long note, " * 20}
    serve(monkeypatch, requests, ("", completed(result)))
    saved = tmp_path / "thumbnail.json"

    code, out, err = run(capsys, "run", "thumbnail", "--args", "{}", "--out", str(saved))

    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "image": "<12,288 base64 chars>",
        "width": 64,
        "height": 48,
        "format": "png",
        "note": "<260 chars>",
    }
    assert json.loads(saved.read_text()) == result


def test_run_out_that_cannot_be_written(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    serve(monkeypatch, requests, ("", completed({"pages": 3})))

    code, out, err = run(capsys, "run", "acme.report", "--out", str(tmp_path / "missing" / "r.json"))

    assert (code, json.loads(out)) == (2, {"pages": 3})
    assert (
        err
        == f"taskgate: error: --out {tmp_path}/missing/r.json: cannot write it: No such file or directory\n"
    )


def test_status_shows_every_field_that_is_set(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    running = task(
        TaskState.RUNNING,
        task="process",
        progress={"percent": 40, "current": 8, "total": 20, "message": "slept 4 of 10 s"},
        attempts=2,
        queued_at=QUEUED_AT,
        worker="worker1@host",
    )
    serve(monkeypatch, requests, ("/tasks/" + TASK, json_answer(200, running)))

    code, out, err = run(capsys, "status", TASK, "--wait", "3")

    assert (code, err) == (0, "")
    rows = [line.rstrip().split(None, 1) for line in out.splitlines()]
    assert rows == [
        ["task", TASK],
        ["type", "process"],
        ["status", "running"],
        ["progress", "40% (8/20) slept 4 of 10 s"],
        ["attempts", "2"],
        ["queued", "2026-11-24T10:00:00+00:00"],
        ["worker", "worker1@host"],
    ]
    assert requests[-1].url.params["wait"] == "3.0"


def test_status_shows_the_webhook_and_its_attempts(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    webhook = {
        "url": "https://hooks.example.com/t",
        "state": "delivering",
        "attempts": [
            {"at": "2026-11-24T10:00:02+00:00", "status": 500, "error": "HTTP 500"},
            {"at": "2026-11-24T10:00:03+00:00", "status": None, "error": "ConnectError: refused"},
        ],
        "next_attempt_at": "2026-11-24T10:00:05+00:00",
    }
    serve(
        monkeypatch,
        requests,
        ("/tasks/" + TASK, json_answer(200, finished(TaskState.COMPLETED, webhook=webhook))),
    )

    code, out, _ = run(capsys, "status", TASK)

    assert code == 0
    assert [line.rstrip() for line in out.splitlines()[-4:]] == [
        "webhook   https://hooks.example.com/t delivering",
        "            2026-11-24T10:00:02+00:00 HTTP 500",
        "            2026-11-24T10:00:03+00:00 ConnectError: refused",
        "            next attempt at 2026-11-24T10:00:05+00:00",
    ]


def test_submit_and_run_send_the_callback_url(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("", SUBMITTED))
    hook = "https://hooks.example.com/t?team=a"

    assert run(capsys, "submit", "process", "--args", "{}", "--callback-url", hook)[0] == 0
    assert requests[-1].url.params["callback_url"] == hook
    assert run(capsys, "submit", "process", "--args", "{}")[0] == 0
    assert "callback_url" not in requests[-1].url.params


def test_status_shows_the_result_json_with_long_strings_shortened(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    result = {"image": "iVBOR" * 1000, "tags": ["[b]", ":x:"]}
    done = finished(TaskState.COMPLETED, task="thumbnail", result=result)
    serve(monkeypatch, requests, ("/tasks/" + TASK, json_answer(200, done)))

    _, out, _ = run(capsys, "status", TASK)

    rows = dict(line.rstrip().split(None, 1) for line in out.splitlines())
    assert rows["type"] == "thumbnail"
    # Brackets and colons in a result are text, never markup or emoji codes.
    assert rows["result"] == '{"image": "<5,000 base64 chars>", "tags": ["[b]", ":x:"]}'


def test_status_of_a_task_that_reports_no_steps(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("/tasks/" + TASK, json_answer(200, task(TaskState.QUEUED))))

    _, out, _ = run(capsys, "status", TASK)

    assert out.splitlines()[2].split() == ["progress", "0%"]
    assert "attempts" not in out


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
    "unknown type": (
        json_answer(
            404, UnknownTaskTypeResponse(detail="unknown task type 'x'; known: process", known=["process"])
        ),
        2,
        "unknown task type 'x'; known: process",
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


@pytest.mark.parametrize("command", [["run", "process"], ["submit", "process"], ["cancel", TASK]])
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
        ([], "taskgate: error: the following arguments are required: COMMAND"),
        (["nope"], "taskgate: error: argument COMMAND: invalid choice: 'nope'"),
        (["submit"], "taskgate submit: error: the following arguments are required: NAME"),
        (["run", "process", "--timeout", "soon"], "argument --timeout: not a number of seconds: 'soon'"),
        (["run", "process", "--timeout", "-1"], "argument --timeout: must be a finite number of seconds"),
        (["--task-timeout", "nan", "types"], "argument --task-timeout: must be a finite number of seconds"),
        (["status", TASK, "--wait", "inf"], "argument --wait: must be a finite number of seconds"),
        (["--url", "127.0.0.1:8000", "status", TASK], "argument --url: not an http(s) URL: '127.0.0.1:8000'"),
        (["status"], "taskgate status: error: the following arguments are required: ID"),
        (["types", "--bogus"], "taskgate: error: unrecognized arguments: --bogus"),
        (["--show-completion", "csh"], "argument --show-completion: invalid choice: 'csh'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    requests: list[httpx.Request], capsys: pytest.CaptureFixture[str], argv: list[str], complaint: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)

    assert exited.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert complaint in line


@pytest.mark.parametrize("shell", cli.SHELLS)
def test_show_completion_prints_the_script_of_the_shell_named(
    capsys: pytest.CaptureFixture[str], shell: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--show-completion", shell])

    assert exited.value.code == 0
    assert "taskgate" in capsys.readouterr().out


def test_show_completion_takes_the_login_shell_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    with pytest.raises(SystemExit):
        cli.main(["--show-completion"])
    assert "compdef _python_argcomplete taskgate" in capsys.readouterr().out


def test_the_shell_completes_commands_and_options(tmp_path: Path) -> None:
    """What bash's completion function asks the command, through argcomplete's protocol."""
    line = "taskgate sta"
    env = {"COMP_LINE": line, "COMP_POINT": str(len(line)), "_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": "bash"}
    completions = tmp_path / "completions"
    finished = subprocess.run(
        [sys.executable, "-c", "from taskgate_client.cli import main; main()"],
        env={**os.environ, **env, "_ARGCOMPLETE_STDOUT_FILENAME": str(completions)},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert completions.read_text().split() == ["status"]


# --- arguments ------------------------------------------------------------------------------------


class ReportArgs(BaseModel):
    title: str
    week: int
    notes: str | None = None


REPORT = TaskSpec(name="acme.report", args=ReportArgs, result=BaseModel, description="A weekly report.")


def sent(requests: list[httpx.Request]) -> object:
    (request,) = requests
    return json.loads(request.content)


def test_a_string_field_takes_the_text_as_it_is_and_others_parse_it(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("", SUBMITTED))
    monkeypatch.setattr(cli, "discover", lambda: Registry.of([REPORT]))

    code, _, _ = run(
        capsys, "submit", "acme.report", "--arg", "title=2026", "--arg", "week=47", "--arg", "notes=null"
    )

    assert code == 0
    assert sent(requests) == {"title": "2026", "week": 47, "notes": "null"}


def test_a_file_goes_base64_encoded_into_a_base64_field(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    (tmp_path / "cat.png").write_bytes(image)
    serve(monkeypatch, requests, ("", SUBMITTED))

    argv = [
        "--arg",
        f"image=@{tmp_path}/cat.png",
        "--arg",
        "width=64",
        "--args",
        '{"width": 1, "height": 32}',
    ]
    assert run(capsys, "submit", "thumbnail", *argv)[0] == 0

    assert sent(requests) == {"image": base64.b64encode(image).decode(), "width": 64, "height": 32}
    # The api reads it back with the type's own model.
    assert ThumbnailArgs.model_validate_json(requests[0].content).image == image


def test_a_type_not_installed_here_has_its_values_parsed_as_json_or_kept_as_text(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("line one\nline two\n")
    serve(monkeypatch, requests, ("", SUBMITTED))

    argv = ["--arg", "week=47", "--arg", "title=hello", "--arg", "tags=[1, 2]", "--arg", "draft=true"]
    argv += ["--arg", f"notes=@{tmp_path}/notes.txt", "--arg", "empty="]
    assert run(capsys, "submit", "acme.unknown", *argv)[0] == 0

    assert requests[0].url.path == submit_path("acme.unknown")
    assert sent(requests) == {
        "week": 47,
        "title": "hello",
        "tags": [1, 2],
        "draft": True,
        "notes": "line one\nline two\n",
        "empty": "",
    }


def test_args_alone_needs_no_installed_types(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> Registry:
        raise AssertionError("discovered the task types without an --arg")

    serve(monkeypatch, requests, ("", SUBMITTED))
    monkeypatch.setattr(cli, "discover", broken)

    assert run(capsys, "submit", "process", "--args", '{"delay": 1.5}')[0] == 0
    assert sent(requests) == {"delay": 1.5}


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--arg", "delay"], "--arg 'delay' is not KEY=VALUE"),
        (["--arg", "=2"], "--arg '=2' is not KEY=VALUE"),
        (["--args", "[1, 2]"], "--args must be a JSON object {...}, not '[1, 2]'"),
        (["--args", "{delay: 2}"], "--args is not JSON: Expecting property name enclosed in double quotes"),
        (["--arg", "delay=@/nonexistent/delay"], "--arg delay: cannot read /nonexistent/delay: No such file"),
    ],
    ids=["no equals", "no key", "not an object", "not json", "no file"],
)
def test_malformed_arguments_are_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    complaint: str,
) -> None:
    serve(monkeypatch, requests, ("", SUBMITTED))

    code, out, err = run(capsys, "run", "process", *argv)

    assert (code, out, requests) == (2, "", [])
    assert err.startswith(f"taskgate: error: {complaint}")
    assert err.count("\n") == 1


def test_a_binary_file_for_a_field_not_known_as_base64_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    serve(monkeypatch, requests, ("", SUBMITTED))

    code, _, err = run(capsys, "submit", "acme.unknown", "--arg", f"image=@{tmp_path}/cat.png")

    assert (code, requests) == (2, [])
    assert f"--arg image: {tmp_path}/cat.png is not UTF-8 text" in err


# --- task types -----------------------------------------------------------------------------------


def test_types_lists_the_task_types_installed_here(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "types")

    assert (code, err) == (0, "")
    listed = [line.split(None, 2) for line in out.splitlines()]
    assert listed == [[spec.name, spec.queue, spec.description] for spec in discover() if not spec.internal]
    assert {"process", "thumbnail"} <= {name for name, _, _ in listed}
    assert "webhook" not in {name for name, _, _ in listed}  # taskgate's own: no client submits it


def test_types_in_columns(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "discover", lambda: Registry.of([REPORT, PROCESS]))

    assert run(capsys, "types") == (
        0,
        "acme.report  taskgate.acme.report  A weekly report.\n"
        f"process      taskgate              {PROCESS.description}\n",
        "",
    )


def test_types_when_none_is_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "discover", lambda: Registry.of([]))

    assert run(capsys, "types") == (0, "", "no task types are installed here\n")


@pytest.mark.parametrize("command", [["types"], ["submit", "process", "--arg", "delay=1"]])
def test_a_broken_installation_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    clash = "task type 'process' is declared twice: by a and by b"

    def broken() -> Registry:
        raise RegistryError(clash)

    monkeypatch.setattr(cli, "discover", broken)

    assert run(capsys, *command) == (2, "", f"taskgate: error: {clash}\n")


# --- --json: one JSON document on stdout, for scripts ---------------------------------------------


def test_json_submit_prints_the_submitted_answer(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("", SUBMITTED))

    code, out, err = run(capsys, "submit", "process", "--args", '{"delay": 1}', "--json")

    assert (code, err) == (0, "")
    assert SubmittedResponse.model_validate_json(out) == SubmittedResponse.model_validate_json(SUBMITTED.text)


def test_json_follow_prints_only_the_final_task(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    failed = finished(TaskState.FAILED, error="boom")
    serve(monkeypatch, requests, ("/events", sse(task(TaskState.QUEUED), failed)), ("", SUBMITTED))

    code, out, err = run(capsys, "submit", "process", "--follow", "--json")

    assert (code, err) == (1, "")
    assert TaskView.model_validate_json(out) == failed


def test_json_run_prints_the_whole_result(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    long_text = "x" * 1000
    completed = {"status": "completed", "result": {"text": long_text}, "time": 0.1, "task_id": TASK}
    serve(monkeypatch, requests, ("", json_answer(200, completed)))

    code, out, err = run(capsys, "run", "acme.report", "--json")

    assert (code, err) == (0, "")
    assert out.count("\n") == 1
    assert json.loads(out) == {"text": long_text}


@pytest.mark.parametrize("command", ["status", "cancel"])
def test_json_status_and_cancel_print_the_task(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    view = finished(TaskState.CANCELLED, error="cancelled by request", task="process")
    serve(monkeypatch, requests, (TASK, json_answer(202 if command == "cancel" else 200, view)))

    code, out, err = run(capsys, command, TASK, "--json")

    assert (code, err) == (0, "")
    assert TaskView.model_validate_json(out) == view


def test_json_types_lists_name_queue_and_description(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "discover", lambda: Registry.of([REPORT, PROCESS]))

    code, out, err = run(capsys, "types", "--json")

    assert (code, err) == (0, "")
    assert json.loads(out) == [
        {"name": "acme.report", "queue": "taskgate.acme.report", "description": "A weekly report."},
        {"name": "process", "queue": "taskgate", "description": PROCESS.description},
    ]


def test_an_empty_variable_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, ("", SUBMITTED))
    monkeypatch.setenv("TASKGATE_URL", "")
    monkeypatch.setenv("TASKGATE_API_KEY", "")

    assert run(capsys, "submit", "process")[0] == 0
    (request,) = requests
    assert str(request.url).startswith("http://127.0.0.1:8000/")
    assert "authorization" not in request.headers
