"""`GET /tasks` (the history) and 410 for an expired task, through the real app on an in-process Redis and
the stand-in worker (conftest)."""

import asyncio
import itertools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import uuid4

import fakeredis
import httpx
import pytest

from taskgate_api.engine.history import Cursor
from taskgate_contracts import GoneResponse, TaskPage
from taskgate_contracts.storage import events_key, index_key, record_key, result_key

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Outcome = Callable[[dict[str, Any]], dict[str, Any] | None]


async def submitted(client: httpx.AsyncClient, count: int, path: str = "/submit/echo") -> list[str]:
    ids = []
    for _ in range(count):
        response = await client.post(path, json={"text": "hi"})
        assert response.status_code == 202, response.text
        ids.append(response.json()["task_id"])
    return ids


async def every_page(client: httpx.AsyncClient, query: str) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        response = await client.get(f"/tasks?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.text
        page = TaskPage.model_validate(response.json())
        pages.append([task.task_id for task in page.tasks])
        cursor = page.next_cursor
        if cursor is None:
            return pages


async def every_task(client: httpx.AsyncClient, query: str) -> list[str]:
    return list(itertools.chain.from_iterable(await every_page(client, query)))


async def test_pages_run_newest_first_without_repeats_or_gaps_while_tasks_arrive(serve: Serve) -> None:
    async with serve() as client:
        older = await submitted(client, 7)
        first = TaskPage.model_validate((await client.get("/tasks?limit=3")).json())
        assert [task.task_id for task in first.tasks] == older[::-1][:3]
        newer = await submitted(client, 4)  # arrive between pages
        rest, cursor = [], first.next_cursor
        while cursor is not None:
            page = TaskPage.model_validate((await client.get(f"/tasks?limit=3&cursor={cursor}")).json())
            rest += [task.task_id for task in page.tasks]
            cursor = page.next_cursor
        assert [task.task_id for task in first.tasks] + rest == older[::-1]
        assert set(newer).isdisjoint(rest)
        assert [len(page) for page in await every_page(client, "limit=5")] == [5, 5, 1]


async def test_filters_combine(serve: Serve, outcomes: dict[str, Outcome]) -> None:
    async with serve() as client:
        completed = await submitted(client, 2)
        outcomes.pop("echo")
        queued = await submitted(client, 3)
        assert await every_task(client, "status=queued&task=echo&limit=2") == queued[::-1]
        assert await every_task(client, "status=completed") == completed[::-1]
        assert await every_page(client, "task=acme.weekly-report") == [[]]
        since = (await client.get(f"/tasks/{queued[0]}")).json()["queued_at"]
        listed = await every_task(client, f"since={since.replace('+', '%2B')}&status=queued")
        assert set(listed) <= set(queued)
        assert queued[-1] in listed


@pytest.mark.parametrize("cursor", ["bm9wZQ", "12:6f1c", "12.not-a-task-id"])
async def test_a_cursor_not_of_a_cursors_form_is_422(serve: Serve, cursor: str) -> None:
    async with serve() as client:
        response = await client.get("/tasks", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize("moment", ["0.5", "1796000000", "yesterday"])
async def test_since_and_until_are_times_not_numbers(serve: Serve, moment: str) -> None:
    async with serve() as client:
        response = await client.get("/tasks", params={"until": moment})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "until"]


async def test_any_cursor_of_the_form_is_taken(serve: Serve) -> None:
    async with serve() as client:
        await submitted(client, 2)
        response = await client.get("/tasks", params={"cursor": Cursor(1, str(uuid4())).encode()})
    assert response.status_code == 200
    assert TaskPage.model_validate(response.json()).tasks == []  # nothing is older than 1 µs after 1970


async def test_an_expired_task_is_410_and_leaves_the_history(
    serve: Serve, redis: fakeredis.FakeAsyncRedis
) -> None:
    async with serve() as client:
        gone, kept = await submitted(client, 2)
        view = (await client.get(f"/tasks/{kept}")).json()
        assert view["expires_at"] is not None
        await asyncio.sleep(0.01)
        assert (await client.get(f"/tasks/{kept}")).json() == view  # the same until the task changes
        # What RESULT_EXPIRES does to it: everything of the task goes but the tombstone.
        await redis.delete(record_key(gone), events_key(gone), result_key(gone))
        for method, path in [
            ("GET", f"/tasks/{gone}"),
            ("DELETE", f"/tasks/{gone}"),
            ("GET", f"/tasks/{gone}/events"),
        ]:
            response = await client.request(method, path)
            assert response.status_code == 410, (method, path)
            body = GoneResponse.model_validate(response.json())
            assert body.task_id == gone
            assert "has expired" in body.detail
        never = await client.get("/tasks/6f1c0000-0000-0000-0000-0000000000ff")
        assert never.status_code == 404
        assert "never submitted" in never.json()["detail"]
        listed = await every_task(client, "limit=10")
    assert listed == [kept]
    assert await redis.zscore(index_key(), gone) is None  # pruned once met
