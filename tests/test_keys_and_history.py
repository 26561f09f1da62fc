"""Keys, quotas, the task history, expiry and dead letters on the real stack: api processes, a worker,
RabbitMQ and Redis.

Each stack has a vhost of its own, and its keys names of their own, so the history a test reads (a client
key's, filtered by its name) holds its tasks alone, whatever else shares this Redis.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from redis import Redis

from taskgate_contracts import (
    DeadLetterList,
    GoneResponse,
    ReplayedResponse,
    TaskPage,
    TaskState,
    TaskView,
    discover,
)
from taskgate_ops.bootstrap import bootstrap
from taskgate_ops.management import ManagementApi
from taskgate_ops.topology import build_topology
from testkit.infrastructure import (
    MANAGEMENT_URL,
    RABBITMQ_PASSWORD,
    RABBITMQ_USER,
    REDIS_URL,
    TaskKeys,
    temporary_vhost,
)
from testkit.processes import Service, running, settings_env, start_api, start_worker, wait_ready
from tests.client import connect

RUN = uuid4().hex[:8]
ADMIN, ALICE, BOB, SHARED = (f"{name}-{RUN}" for name in ("admin", "alice", "bob", "shared"))
#: The shared key's limits, which two api processes enforce together.
RATE, IN_FLIGHT = 5, 2
KEYS = [
    {"name": ADMIN, "key": f"{ADMIN}-secret", "role": "admin"},
    {"name": ALICE, "key": f"{ALICE}-secret", "role": "client"},
    {"name": BOB, "key": f"{BOB}-secret", "role": "client"},
    {"name": SHARED, "key": f"{SHARED}-secret", "role": "client", "rate": RATE, "in_flight": IN_FLIGHT},
]
#: RESULT_EXPIRES of the stack whose tasks expire while a test watches.
SHORT_EXPIRY = 4


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {name}-secret"}


@dataclass
class Stack:
    apis: list[Service]
    worker: Service
    vhost: str
    workdir: Path


@pytest.fixture(scope="module")
def forget_keys(task_keys: TaskKeys) -> Iterator[None]:
    """Deletes what the keys of this module left in Redis: their history and in-flight sets, rate counts."""
    yield
    redis = Redis.from_url(REDIS_URL)
    try:
        for name in (ADMIN, ALICE, BOB, SHARED):
            keys = list(redis.scan_iter(match=f"*{name}*"))
            if keys:
                redis.delete(*keys)
    finally:
        redis.close()


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, forget_keys: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A worker and two api processes sharing it, the keys above, tasks kept RESULT_EXPIRES=600 s."""
    with temporary_vhost() as vhost:
        env = settings_env(vhost, task_timeout=10, api_keys=json.dumps(KEYS))
        workdir = tmp_path_factory.mktemp("keys")
        with (
            running(request.config, start_worker(env, workdir)) as worker,
            running(request.config, start_api("keys-api-1", env, workdir)) as first,
            running(request.config, start_api("keys-api-2", env, workdir)) as second,
        ):
            for api in (first, second):
                # /readyz takes a key like every other route: the admin's.
                wait_ready(api, worker, bearer(ADMIN))
            yield Stack([first, second], worker, vhost, workdir)


@pytest.fixture
async def clients(stack: Stack, task_keys: TaskKeys) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with (
        connect(stack.apis[0].url, task_keys) as first,
        connect(stack.apis[1].url, task_keys) as second,
    ):
        yield [first, second]


async def submit(client: httpx.AsyncClient, key: str, delay: float = 0) -> str:
    response = await client.post("/submit/process", json={"delay": delay}, headers=bearer(key))
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


async def test_pages_neither_repeat_nor_skip_while_tasks_keep_arriving(
    clients: list[httpx.AsyncClient],
) -> None:
    second = clients[1]
    older = [await submit(clients[i % 2], ALICE) for i in range(25)]
    arriving: list[str] = []
    stop = asyncio.Event()

    async def keep_submitting() -> None:
        while not stop.is_set():
            arriving.append(await submit(second, ALICE))

    inserting = asyncio.create_task(keep_submitting())
    seen: list[str] = []
    cursor = None
    try:
        while True:
            params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
            # Pages alternate between the two api processes: the cursor means the same to both.
            client = clients[len(seen) % 2]
            response = await client.get("/tasks", params=params, headers=bearer(ALICE))
            assert response.status_code == 200, response.text
            page = TaskPage.model_validate_json(response.content)
            seen += [task.task_id for task in page.tasks]
            cursor = page.next_cursor
            await asyncio.sleep(0.05)  # let tasks arrive between pages
            if cursor is None:
                break
    finally:
        stop.set()
        await inserting
    assert arriving, "no task arrived while the pages were read"
    assert len(seen) == len(set(seen)), "a task was listed twice"
    # Every task older than the first page is listed, newest first.
    assert [task_id for task_id in seen if task_id in older] == older[::-1]
    assert seen[-len(older) :] == older[::-1]


async def test_a_client_key_does_not_see_another_keys_task(clients: list[httpx.AsyncClient]) -> None:
    first, second = clients
    alices = await submit(first, ALICE)
    assert (await second.get(f"/tasks/{alices}", headers=bearer(BOB))).status_code == 404
    assert (await second.delete(f"/tasks/{alices}", headers=bearer(BOB))).status_code == 404
    bobs_history = await second.get("/tasks", params={"limit": "100"}, headers=bearer(BOB))
    assert alices not in {task["task_id"] for task in bobs_history.json()["tasks"]}
    seen = await first.get(f"/tasks/{alices}", headers=bearer(ADMIN))
    view = TaskView.model_validate_json(seen.content)
    assert view.submitted_by == ALICE
    assert view.expires_at is not None


async def test_two_api_processes_hold_one_key_to_its_rate_together(clients: list[httpx.AsyncClient]) -> None:
    first, second = clients
    await asyncio.sleep(1.1)  # a window of the key's own, whatever came before
    started = time.monotonic()
    answers = [await first.get("/tasks", headers=bearer(SHARED)) for _ in range(RATE)]
    over = await second.get("/tasks", headers=bearer(SHARED))
    elapsed = time.monotonic() - started
    assert [answer.status_code for answer in answers] == [200] * RATE
    assert elapsed < 1, f"{RATE + 1} requests took {elapsed:.2f} s: the window moved on"
    assert over.status_code == 429, over.text
    assert over.json()["policy"] == "rate"
    assert (
        over.headers["RateLimit-Policy"]
        == f'"rate";q={RATE};w=1, "in-flight";q={IN_FLIGHT};qu="concurrent-requests"'
    )
    assert over.headers["RateLimit"] == '"rate";r=0;t=1'
    assert over.headers["Retry-After"] == "1"


async def test_two_api_processes_hold_one_key_to_its_tasks_in_flight_together(
    clients: list[httpx.AsyncClient],
) -> None:
    first, second = clients
    await asyncio.sleep(1.1)
    running_ids = [await submit(first, SHARED, delay=30), await submit(second, SHARED, delay=30)]
    try:
        refused = await first.post("/submit/process", json={"delay": 0}, headers=bearer(SHARED))
        assert refused.status_code == 429, refused.text
        assert refused.json()["policy"] == "in-flight"
        # The in-flight item, then the rate's, which every answer to this key carries.
        assert refused.headers.get_list("RateLimit")[0] == '"in-flight";r=0'
        assert refused.headers["RateLimit-Policy"].count("in-flight") == 1
        assert refused.headers["Retry-After"] == "5"
        # One ends (cancelled): the other process admits the next at once.
        assert (await first.delete(f"/tasks/{running_ids[0]}", headers=bearer(SHARED))).status_code == 202
        await asyncio.sleep(0.3)  # the rate's window, not the in-flight count, is what this waits for
        running_ids.append(await submit(second, SHARED))
    finally:
        for task_id in running_ids:
            await first.delete(f"/tasks/{task_id}", headers=bearer(ADMIN))


@dataclass
class ShortStack:
    api: Service
    vhost: str
    env: dict[str, str]
    workdir: Path


@pytest.fixture(scope="module")
def short_stack(
    request: pytest.FixtureRequest, forget_keys: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShortStack]:
    """An api whose tasks expire after SHORT_EXPIRY seconds, with no worker of its own: each test starts
    the worker it needs. Its vhost is shaped as ops bootstraps it, dead-letter queues included."""
    with (
        temporary_vhost() as vhost,
        ManagementApi(MANAGEMENT_URL, RABBITMQ_USER, RABBITMQ_PASSWORD) as management,
    ):
        bootstrap(management, build_topology(vhost, discover()))
        env = settings_env(vhost, task_timeout=3, result_expires=SHORT_EXPIRY, api_keys=json.dumps(KEYS))
        workdir = tmp_path_factory.mktemp("short")
        with running(request.config, start_api("short-api", env, workdir)) as api:
            yield ShortStack(api, vhost, env, workdir)


@contextmanager
def worker_of(
    request: pytest.FixtureRequest, stack: ShortStack, **settings: str | float
) -> Iterator[Service]:
    """A worker for the short stack's api, with `settings` of its own, stopped on leaving (or when it
    fails to become ready)."""
    env = {**stack.env, **{name.upper(): str(value) for name, value in settings.items()}}
    with running(request.config, start_worker(env, stack.workdir)) as worker:
        wait_ready(stack.api, worker, bearer(ADMIN))
        yield worker


async def test_an_expired_task_is_410_and_one_never_submitted_404(
    request: pytest.FixtureRequest, short_stack: ShortStack, task_keys: TaskKeys
) -> None:
    with worker_of(request, short_stack):
        async with connect(short_stack.api.url, task_keys) as client:
            task_id = await submit(client, ALICE)
            await wait_for_state_as(client, task_id, TaskState.COMPLETED, ALICE)
            await asyncio.sleep(SHORT_EXPIRY + 1)
            gone = await client.get(f"/tasks/{task_id}", headers=bearer(ALICE))
            assert gone.status_code == 410, gone.text
            body = GoneResponse.model_validate_json(gone.content)
            assert body.task_id == task_id
            assert "RESULT_EXPIRES" in body.detail
            # Another client is not told the task ever existed.
            assert (await client.get(f"/tasks/{task_id}", headers=bearer(BOB))).status_code == 404
            never = await client.get(f"/tasks/{uuid4()}", headers=bearer(ALICE))
            assert never.status_code == 404
            assert "never submitted" in never.json()["detail"]
            history = await client.get("/tasks", headers=bearer(ALICE))
            assert task_id not in {task["task_id"] for task in history.json()["tasks"]}


async def wait_for_state_as(client: httpx.AsyncClient, task_id: str, state: TaskState, key: str) -> TaskView:
    deadline = time.monotonic() + 20
    while True:
        response = await client.get(f"/tasks/{task_id}", params={"wait": "2"}, headers=bearer(key))
        assert response.status_code == 200, response.text
        view = TaskView.model_validate_json(response.content)
        if view.status is state:
            return view
        assert time.monotonic() < deadline, f"task not {state}: {view}"


async def test_a_poisoned_message_is_listed_then_replayed_once_and_completes(
    request: pytest.FixtureRequest, short_stack: ShortStack, task_keys: TaskKeys
) -> None:
    async with connect(short_stack.api.url, task_keys) as client:
        # A worker whose MAX_DELAY is below what the api let through can never run the task: it
        # dead-letters the message and fails the task with the reason.
        with worker_of(request, short_stack, max_delay=1):
            task_id = await submit(client, ALICE, delay=2)
            failed = await wait_for_state_as(client, task_id, TaskState.FAILED, ALICE)
            assert "MAX_DELAY" in (failed.error or "")

        assert (await client.get("/dead-letters", headers=bearer(ALICE))).status_code == 403
        for _ in range(2):  # listing takes nothing out
            listed = await client.get("/dead-letters", headers=bearer(ADMIN))
            assert listed.status_code == 200, listed.text
            letters = DeadLetterList.model_validate_json(listed.content).dead_letters
            (letter,) = [letter for letter in letters if letter.task_id == task_id]
            assert (letter.task, letter.queue, letter.reason) == ("process", "taskgate", "rejected")
            assert letter.args == {"delay": 2}
            assert letter.dead_lettered_at is not None

        with worker_of(request, short_stack):
            replayed = await client.post(f"/dead-letters/{task_id}/replay", headers=bearer(ADMIN))
            assert replayed.status_code == 202, replayed.text
            assert ReplayedResponse.model_validate_json(replayed.content).queue == "taskgate"
            again = await client.post(f"/dead-letters/{task_id}/replay", headers=bearer(ADMIN))
            assert again.status_code == 409, again.text
            assert "replayed already" in again.json()["detail"]
            completed = await wait_for_state_as(client, task_id, TaskState.COMPLETED, ALICE)
            assert completed.submitted_by == ALICE
        after = DeadLetterList.model_validate_json(
            (await client.get("/dead-letters", headers=bearer(ADMIN))).content
        )
        assert task_id not in {letter.task_id for letter in after.dead_letters}
