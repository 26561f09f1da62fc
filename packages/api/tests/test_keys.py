"""Named API keys: roles, ownership of tasks, per-key limits — through the real app on an in-process Redis
and the stand-in worker (conftest)."""

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import fakeredis
import httpx
import pytest
from pydantic import ValidationError

from taskgate_api.apikeys import ADMIN, CLIENT, parse_keys
from taskgate_api.config import ApiSettings
from taskgate_contracts import ForbiddenResponse, TaskView, TooManyRequestsResponse, describe_settings_error
from taskgate_contracts.storage import in_flight_key, result_key

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Outcome = Callable[[dict[str, Any]], dict[str, Any] | None]

KEYS = json.dumps(
    [
        {"name": "alice", "key": "alice-secret", "role": "client", "in_flight": 2},
        {"name": "bob", "key": "bob-secret"},
        {"name": "ops", "key": "ops-secret", "role": "admin"},
        {"name": "burst", "key": "burst-secret", "rate": 3},
    ]
)


def as_key(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def never_finishing(outcomes: dict[str, Outcome]) -> None:
    """The worker does not get to echo tasks: they stay queued."""
    outcomes.pop("echo")


@pytest.fixture
def keyed_settings(app_settings: ApiSettings) -> ApiSettings:
    return app_settings.model_copy(update={"api_keys": parse_keys(KEYS)})


def test_comma_separated_keys_stay_admins_without_limits() -> None:
    keys = parse_keys(" a , b,,c ")
    assert [(key.name, key.role, key.rate, key.in_flight) for key in keys] == [
        ("key-1", ADMIN, None, None),
        ("key-2", ADMIN, None, None),
        ("key-3", ADMIN, None, None),
    ]


def test_named_keys_carry_role_and_limits() -> None:
    alice, bob, *_ = parse_keys(KEYS)
    assert (alice.name, alice.role, alice.in_flight, alice.rate) == ("alice", CLIENT, 2, None)
    assert (bob.role, bob.secret.get_secret_value()) == (CLIENT, "bob-secret")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('[{"name": "a", "key": "k"}, {"name": "a", "key": "j"}]', "same name"),
        ('[{"name": "a", "key": "k"}, {"name": "b", "key": "k"}]', "listed twice"),
        ('[{"name": "a b", "key": "k"}]', "pattern"),
        ('[{"name": "a", "key": "k", "role": "root"}]', "'client' or 'admin'"),
        ('[{"name": "a", "key": "k", "rate": 0}]', "greater than or equal to 1"),
        ("[{oops", "JSON list"),
    ],
)
def test_a_wrong_api_keys_value_stops_the_api_naming_no_key(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("API_KEYS", value)
    with pytest.raises(ValidationError) as raised:
        ApiSettings(_env_file=None)
    line = describe_settings_error(raised.value)
    assert line.startswith("invalid setting API_KEYS: ")
    assert message in line
    assert '"k"' not in line
    assert "'k'" not in line


async def test_a_client_key_sees_only_its_own_tasks(serve: Serve, keyed_settings: ApiSettings) -> None:
    async with serve(settings=keyed_settings) as client:
        mine = await client.post("/submit/echo", json={"text": "a"}, headers=as_key("alice-secret"))
        theirs = await client.post("/submit/echo", json={"text": "b"}, headers=as_key("bob-secret"))
        mine_id, theirs_id = mine.json()["task_id"], theirs.json()["task_id"]

        view = TaskView.model_validate(
            (await client.get(f"/tasks/{mine_id}", headers=as_key("alice-secret"))).json()
        )
        assert view.submitted_by == "alice"
        assert view.expires_at is not None
        for method, path in [
            ("GET", f"/tasks/{theirs_id}"),
            ("GET", f"/tasks/{theirs_id}?wait=0.1"),
            ("DELETE", f"/tasks/{theirs_id}"),
            ("GET", f"/tasks/{theirs_id}/events"),
        ]:
            response = await client.request(method, path, headers=as_key("alice-secret"))
            assert response.status_code == 404, (method, path)
            assert "never submitted" in response.json()["detail"]

        listed = (await client.get("/tasks", headers=as_key("alice-secret"))).json()
        assert [task["task_id"] for task in listed["tasks"]] == [mine_id]
        everything = (await client.get("/tasks", headers=as_key("ops-secret"))).json()
        assert {task["task_id"] for task in everything["tasks"]} == {mine_id, theirs_id}
        theirs_seen = await client.get(f"/tasks/{theirs_id}", headers=as_key("ops-secret"))
        assert theirs_seen.json()["submitted_by"] == "bob"


async def test_dead_letters_need_an_admin_key(serve: Serve, keyed_settings: ApiSettings) -> None:
    async with serve(settings=keyed_settings) as client:
        for method, path in [
            ("GET", "/dead-letters"),
            ("POST", "/dead-letters/6f1c0000-0000-0000-0000-000000000001/replay"),
        ]:
            response = await client.request(method, path, headers=as_key("alice-secret"))
            assert response.status_code == 403, response.text
            assert "needs an admin key" in ForbiddenResponse.model_validate(response.json()).detail


async def test_over_its_rate_a_key_is_refused_with_429_and_ratelimit_headers(
    serve: Serve, keyed_settings: ApiSettings
) -> None:
    async with serve(settings=keyed_settings) as client:
        answers = [await client.get("/tasks", headers=as_key("burst-secret")) for _ in range(4)]
        unlimited = await client.get("/tasks", headers=as_key("ops-secret"))
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Policy"] == '"rate";q=3;w=1'
    assert answers[0].headers["RateLimit"] == '"rate";r=2;t=1'
    refused = answers[3]
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["RateLimit"] == '"rate";r=0;t=1'
    body = TooManyRequestsResponse.model_validate(refused.json())
    assert (body.policy, body.limit) == ("rate", 3)
    assert "RateLimit" not in unlimited.headers


@pytest.mark.usefixtures("never_finishing")
async def test_in_flight_limit_refuses_then_heals_when_a_task_ends(
    serve: Serve, keyed_settings: ApiSettings, redis: fakeredis.FakeAsyncRedis
) -> None:
    alice = as_key("alice-secret")
    async with serve(settings=keyed_settings) as client:
        first, second = [
            (await client.post("/submit/echo", json={"text": "x"}, headers=alice)).json()["task_id"]
            for _ in range(2)
        ]
        refused = await client.post("/submit/echo", json={"text": "x"}, headers=alice)
        assert refused.status_code == 429
        assert refused.headers["RateLimit"] == '"in-flight";r=0'
        assert refused.headers["RateLimit-Policy"] == '"in-flight";q=2;qu="concurrent-requests"'
        assert refused.headers["Retry-After"] == "5"
        assert TooManyRequestsResponse.model_validate(refused.json()).policy == "in-flight"
        # Another key is not held to alice's limit.
        assert (
            await client.post("/submit/echo", json={"text": "x"}, headers=as_key("bob-secret"))
        ).status_code == 202

        # One ends as a worker ends it (its stored state), one is cancelled: both stop counting.
        await redis.set(
            result_key(first), json.dumps({"status": "FAILURE", "result": None, "task_id": first})
        )
        assert (await client.delete(f"/tasks/{second}", headers=alice)).status_code == 202
        admitted = [await client.post("/submit/echo", json={"text": "x"}, headers=alice) for _ in range(3)]
    assert [answer.status_code for answer in admitted] == [202, 202, 429]
    assert await redis.zcard(in_flight_key("alice")) == 2


@pytest.mark.usefixtures("never_finishing")
async def test_a_task_whose_record_expired_counts_no_more(
    serve: Serve, keyed_settings: ApiSettings, redis: fakeredis.FakeAsyncRedis
) -> None:
    """A task whose worker died and whose outcome was never stored heals when its record expires."""
    alice = as_key("alice-secret")
    async with serve(settings=keyed_settings) as client:
        ids = [
            (await client.post("/submit/echo", json={"text": "x"}, headers=alice)).json()["task_id"]
            for _ in range(2)
        ]
        await redis.delete(f"taskgate:task:{ids[0]}")
        assert (await client.post("/submit/echo", json={"text": "x"}, headers=alice)).status_code == 202
