"""`taskgate list`, `taskgate dead-letters`, `taskgate replay` and the client methods behind them, against a
stand-in api (httpx's MockTransport)."""

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from taskgate_client import AsyncTaskgateClient, RateLimitedError, TaskFilter, TaskgateClient, cli
from taskgate_contracts import (
    DeadLetter,
    DeadLetterList,
    ForbiddenResponse,
    GoneResponse,
    ReplayedResponse,
    TaskLinks,
    TaskPage,
    TaskState,
    TaskView,
    TooManyRequestsResponse,
)

TASK, OTHER = "6f1c0000-0000-0000-0000-000000000001", "6f1c0000-0000-0000-0000-000000000002"
QUEUED_AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def view(task_id: str) -> TaskView:
    return TaskView(
        task_id=task_id, task="process", status=TaskState.QUEUED, queued_at=QUEUED_AT, submitted_by="reports"
    )


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body.model_dump_json() if hasattr(body, "model_dump_json") else json.dumps(body)
    return httpx.Response(
        status, content=content, headers={"content-type": "application/json", **(headers or {})}
    )


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    monkeypatch.delenv("TASKGATE_URL", raising=False)
    monkeypatch.delenv("TASKGATE_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "240")  # a wide terminal: the rows stay one line each
    return []


def serve(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], handle: Handler
) -> httpx.MockTransport:
    def recorded(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return handle(request)

    transport = httpx.MockTransport(recorded)
    monkeypatch.setattr(
        cli, "TaskgateClient", lambda *args, **kwargs: TaskgateClient(*args, transport=transport, **kwargs)
    )
    return transport


def two_pages(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("cursor") == "next":
        return answer(200, TaskPage(tasks=[view(OTHER)]))
    return answer(200, TaskPage(tasks=[view(TASK)], next_cursor="next"))


def test_list_sends_the_filters_and_prints_a_table_and_the_next_cursor(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, two_pages)
    code = cli.main(
        [
            "list",
            "--status",
            "queued",
            "--task",
            "process",
            "--since",
            "2026-11-24T00:00:00+00:00",
            "--limit",
            "1",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert TASK in out
    assert "reports" in out
    assert err == "more: taskgate list --cursor next (same filters)\n"
    params = requests[0].url.params
    assert (params["status"], params["task"], params["limit"]) == ("queued", "process", "1")
    assert params["since"] == "2026-11-24T00:00:00+00:00"


def test_list_all_follows_every_cursor_and_json_is_one_document(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monkeypatch, requests, two_pages)
    assert cli.main(["list", "--all", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [task["task_id"] for task in document["tasks"]] == [TASK, OTHER]
    assert [request.url.params.get("cursor") for request in requests] == [None, "next"]


LETTER = DeadLetter(
    task_id=TASK,
    task="process",
    queue="taskgate",
    dead_letter_queue="taskgate.dead-letter",
    reason="rejected",
    detail="ValueError: too long",
    dead_lettered_at=QUEUED_AT,
    count=1,
    args={"delay": 40},
)


def test_dead_letters_and_replay(
    monkeypatch: pytest.MonkeyPatch, requests: list[httpx.Request], capsys: pytest.CaptureFixture[str]
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/dead-letters":
            return answer(200, DeadLetterList(dead_letters=[LETTER], truncated=True))
        return answer(202, ReplayedResponse(task_id=TASK, queue="taskgate", links=TaskLinks.for_task(TASK)))

    serve(monkeypatch, requests, handle)
    assert cli.main(["dead-letters", "--limit", "1"]) == 0
    out, err = capsys.readouterr()
    assert "rejected — ValueError: too long" in out
    assert '{"delay": 40}' in out
    assert err == "more wait than the 1 listed (--limit)\n"
    assert requests[0].url.params["limit"] == "1"

    assert cli.main(["replay", TASK]) == 0
    assert capsys.readouterr().out == f"task {TASK} sent back to queue taskgate\n"
    assert (requests[1].method, requests[1].url.path) == ("POST", f"/dead-letters/{TASK}/replay")


@pytest.mark.parametrize(
    ("response", "code", "message"),
    [
        (
            answer(403, ForbiddenResponse(detail="this operation needs an admin key")),
            2,
            "this operation needs an admin key",
        ),
        (
            answer(
                429,
                TooManyRequestsResponse(detail="key 'reports' is over its limit", policy="rate", limit=3),
                {"Retry-After": "1"},
            ),
            3,
            "key 'reports' is over its limit; try again in 1 s",
        ),
        (
            answer(410, GoneResponse(detail=f"task {TASK} has expired", task_id=TASK)),
            2,
            f"task {TASK} has expired",
        ),
    ],
    ids=["403", "429", "410"],
)
def test_refusals_are_one_line_and_an_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    requests: list[httpx.Request],
    capsys: pytest.CaptureFixture[str],
    response: httpx.Response,
    code: int,
    message: str,
) -> None:
    serve(monkeypatch, requests, lambda _: response)
    assert cli.main(["dead-letters"]) == code
    assert capsys.readouterr().err == f"taskgate: error: {message}\n"


async def test_the_async_client_pages_too() -> None:
    async with AsyncTaskgateClient("http://taskgate", transport=httpx.MockTransport(two_pages)) as client:
        page = await client.list_tasks(TaskFilter(status=TaskState.QUEUED), limit=1)
        assert page.next_cursor == "next"
        assert [task.task_id for task in await client.all_tasks(page_size=1)] == [TASK, OTHER]


def test_a_429_carries_its_retry_after() -> None:
    limited = answer(
        429, TooManyRequestsResponse(detail="over", policy="in-flight", limit=2), {"Retry-After": "5"}
    )
    transport = httpx.MockTransport(lambda _: limited)
    with (
        TaskgateClient("http://taskgate", transport=transport) as client,
        pytest.raises(RateLimitedError) as raised,
    ):
        client.list_tasks()
    assert (raised.value.retry_after, raised.value.body.policy) == (5, "in-flight")
