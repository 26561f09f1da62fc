"""Idempotency keys: the same key attaches to the same task, once, even under concurrent duplicates."""

import asyncio

import fakeredis
import pytest
from fastapi.exceptions import RequestValidationError

from taskgate_api.idempotency import IdempotencyKeys
from taskgate_contracts import ProcessArgs


@pytest.fixture
def keys(redis: fakeredis.FakeAsyncRedis) -> IdempotencyKeys:
    return IdempotencyKeys(redis, "127.0.0.1:6379", expires=60)


async def test_first_claim_sends_and_duplicates_attach(keys: IdempotencyKeys) -> None:
    first = await keys.claim("k", ProcessArgs(delay=1), "task-1")
    again = await keys.claim("k", ProcessArgs(delay=1), "task-2")
    assert (first.task_id, first.new) == ("task-1", True)
    assert (again.task_id, again.new) == ("task-1", False)


async def test_concurrent_duplicates_make_one_task(keys: IdempotencyKeys) -> None:
    claims = await asyncio.gather(*(keys.claim("k", ProcessArgs(delay=1), f"t{i}") for i in range(50)))
    assert sum(claim.new for claim in claims) == 1
    assert len({claim.task_id for claim in claims}) == 1


async def test_same_key_with_another_body_is_refused(keys: IdempotencyKeys) -> None:
    await keys.claim("k", ProcessArgs(delay=1), "task-1")
    with pytest.raises(RequestValidationError) as caught:
        await keys.claim("k", ProcessArgs(delay=2), "task-2")
    assert "different body" in caught.value.errors()[0]["msg"]


async def test_released_key_can_be_claimed_again(keys: IdempotencyKeys) -> None:
    await keys.claim("k", ProcessArgs(delay=1), "task-1")
    await keys.release("k")
    assert (await keys.claim("k", ProcessArgs(delay=1), "task-2")).new
