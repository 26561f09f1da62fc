"""Idempotency keys: the same key attaches to the same task, once, even under concurrent duplicates; the same
key with other arguments, or for another task type, is refused."""

import asyncio
from typing import Any

import fakeredis
import httpx
import pytest

from taskgate_api.engine.errors import IdempotencyConflictError
from taskgate_api.engine.idempotency import IdempotencyKeys
from taskgate_contracts import IDEMPOTENCY_HEADER, TaskSpec
from taskgate_contracts.builtin.process import ProcessArgs

Sent = tuple[str, str, str, dict[str, Any]]


@pytest.fixture
def keys(redis: fakeredis.FakeAsyncRedis) -> IdempotencyKeys:
    return IdempotencyKeys(redis, "127.0.0.1:6379", expires=60)


async def test_first_claim_sends_and_duplicates_attach(keys: IdempotencyKeys) -> None:
    first = await keys.claim("k", "process", ProcessArgs(delay=1), "task-1")
    again = await keys.claim("k", "process", ProcessArgs(delay=1), "task-2")
    assert (first.task_id, first.new) == ("task-1", True)
    assert (again.task_id, again.new) == ("task-1", False)


async def test_concurrent_duplicates_make_one_task(keys: IdempotencyKeys) -> None:
    claims = await asyncio.gather(
        *(keys.claim("k", "process", ProcessArgs(delay=1), f"t{i}") for i in range(50))
    )
    assert sum(claim.new for claim in claims) == 1
    assert len({claim.task_id for claim in claims}) == 1


async def test_same_key_with_other_arguments_is_refused(keys: IdempotencyKeys) -> None:
    await keys.claim("k", "process", ProcessArgs(delay=1), "task-1")
    with pytest.raises(IdempotencyConflictError) as refused:
        await keys.claim("k", "process", ProcessArgs(delay=2), "task-2")
    assert "different body" in refused.value.detail


async def test_same_key_and_arguments_for_another_task_type_is_refused(
    keys: IdempotencyKeys, echo: TaskSpec[Any, Any]
) -> None:
    args = echo.args(text="hi")
    await keys.claim("k", "echo", args, "task-1")
    # The same arguments, word for word, but another type: a different request, not a duplicate.
    with pytest.raises(IdempotencyConflictError):
        await keys.claim("k", "echo.loud", args, "task-2")
    assert (await keys.claim("k", "echo", args, "task-3")).task_id == "task-1"


async def test_released_key_can_be_claimed_again(keys: IdempotencyKeys) -> None:
    await keys.claim("k", "process", ProcessArgs(delay=1), "task-1")
    await keys.release("k")
    assert (await keys.claim("k", "process", ProcessArgs(delay=1), "task-2")).new


async def test_keys_are_the_client_s_own_strings_hashed(
    keys: IdempotencyKeys, redis: fakeredis.FakeAsyncRedis
) -> None:
    # A key is any visible ASCII a client chooses: it is never part of a Redis key as it is.
    await keys.claim("user:42 *", "process", ProcessArgs(delay=1), "task-1")
    assert all(b"user:42" not in key for key in await redis.keys("*"))


async def test_over_http_a_duplicate_attaches_and_sends_nothing(
    client: httpx.AsyncClient, sent: list[Sent]
) -> None:
    headers = {IDEMPOTENCY_HEADER: "order-7"}
    first = await client.post("/submit/echo", json={"text": "hi"}, headers=headers)
    again = await client.post("/submit/echo", json={"text": "hi"}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["task_id"] == first.json()["task_id"]
    assert len(sent) == 1

    # A run with the same key waits for that task rather than sending another.
    run = await client.post("/run/echo", json={"text": "hi"}, headers=headers)
    assert run.status_code == 200, run.text
    assert run.json()["task_id"] == first.json()["task_id"]
    assert run.json()["result"] == {"text": "hi"}
    assert len(sent) == 1


async def test_over_http_the_seed_s_operations_are_the_process_type_s(
    client: httpx.AsyncClient, sent: list[Sent]
) -> None:
    # POST /tasks and POST /submit/process are the same type's submit operation, so they share keys.
    headers = {IDEMPOTENCY_HEADER: "seed-1"}
    seed = await client.post("/tasks", json={"delay": 1}, headers=headers)
    typed = await client.post("/submit/process", json={"delay": 1}, headers=headers)
    assert typed.json()["task_id"] == seed.json()["task_id"]
    assert len(sent) == 1


async def test_over_http_a_conflict_is_422_naming_the_header(
    client: httpx.AsyncClient, sent: list[Sent]
) -> None:
    headers = {IDEMPOTENCY_HEADER: "order-8"}
    assert (await client.post("/submit/echo", json={"text": "hi"}, headers=headers)).status_code == 202
    for path, body in [
        ("/submit/echo", {"text": "bye"}),
        ("/run/echo", {"text": "bye"}),
        ("/tasks", {"delay": 0}),
    ]:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.text)
        [detail] = response.json()["detail"]
        assert detail["loc"] == ["header", IDEMPOTENCY_HEADER]
        assert detail["type"] == "idempotency_conflict"
    assert len(sent) == 1
