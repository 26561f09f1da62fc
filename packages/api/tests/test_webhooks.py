"""Completion webhooks, the api's part: a callback URL is checked against WEBHOOK_ALLOWED_HOSTS at submit,
recorded with the submitting key's name, shown on the task, and a cancel sends the delivery once."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import fakeredis
import httpx
import pytest

from taskgate_api.engine.errors import ServiceUnavailableError
from taskgate_contracts import TaskView, WebhookState
from taskgate_contracts.builtin.webhook import WEBHOOK, delivery_id
from taskgate_contracts.storage import RecordField, record_key

Outcome = Callable[[dict[str, Any]], dict[str, Any] | None]
Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Sent = tuple[str, str, str, dict[str, Any]]
HOOK = "http://127.0.0.1:8099/hook"


@pytest.fixture(autouse=True)
def _allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1:8099, *.example.com")


@pytest.fixture
def never_finishing(outcomes: dict[str, Outcome]) -> None:
    outcomes.pop("echo")


def deliveries(sent: list[Sent]) -> list[Sent]:
    return [item for item in sent if item[0] == WEBHOOK.task_name]


@pytest.mark.parametrize(
    ("path", "body"),
    [("/tasks", {"delay": 1}), ("/submit/echo", {"text": "hi"}), ("/process", {"delay": 0})],
)
async def test_a_callback_url_is_recorded_and_shown_on_the_task(
    client: httpx.AsyncClient, redis: fakeredis.FakeAsyncRedis, path: str, body: dict[str, Any]
) -> None:
    response = await client.post(path, params={"callback_url": HOOK}, json=body)
    assert response.status_code in (200, 202), response.text
    task_id = response.json()["task_id"]
    record = await redis.hgetall(record_key(task_id))
    assert record[RecordField.WEBHOOK_URL.encode()] == HOOK.encode()
    assert RecordField.KEY.encode() not in record  # no keys: the default secret signs
    view = TaskView.model_validate((await client.get(f"/tasks/{task_id}")).json())
    assert view.webhook is not None
    assert (view.webhook.url, view.webhook.state, view.webhook.attempts) == (HOOK, WebhookState.PENDING, [])


async def test_a_task_without_a_callback_url_has_no_webhook(client: httpx.AsyncClient) -> None:
    task_id = (await client.post("/submit/echo", json={"text": "hi"})).json()["task_id"]
    assert (await client.get(f"/tasks/{task_id}")).json()["webhook"] is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://10.0.0.1/", "10.0.0.1:80 is not a destination WEBHOOK_ALLOWED_HOSTS allows"),
        ("http://127.0.0.1:8098/hook", "127.0.0.1:8098 is not a destination WEBHOOK_ALLOWED_HOSTS allows"),
        ("http://localhost:8099/hook", "localhost:8099 is not a destination WEBHOOK_ALLOWED_HOSTS allows"),
        ("file:///etc/passwd", "the callback URL must be http or https"),
        ("https://hooks.example.com:99999/", "the callback URL is not a URL: Port out of range 0-65535"),
    ],
)
@pytest.mark.parametrize("path", ["/tasks", "/submit/echo", "/run/echo", "/process"])
async def test_a_destination_not_allowed_is_a_422_naming_it_and_nothing_is_sent(
    client: httpx.AsyncClient, sent: list[Sent], path: str, url: str, problem: str
) -> None:
    body = {"text": "hi"} if path.endswith("echo") else {"delay": 0}
    response = await client.post(path, params={"callback_url": url}, json=body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["query", "callback_url"], "msg": problem, "type": "url_not_allowed"}
    ]
    assert sent == []


async def test_without_allowed_hosts_no_callback_url_is_taken(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, serve: Serve
) -> None:
    monkeypatch.delenv("WEBHOOK_ALLOWED_HOSTS")
    async with serve() as plain:
        response = await plain.post("/submit/echo", params={"callback_url": HOOK}, json={"text": "hi"})
    assert response.status_code == 422
    assert "WEBHOOK_ALLOWED_HOSTS lists no destination" in response.json()["detail"][0]["msg"]


@pytest.mark.usefixtures("never_finishing")
async def test_cancelling_a_queued_task_sends_its_delivery_once(
    client: httpx.AsyncClient, sent: list[Sent]
) -> None:
    with_hook = (await client.post("/submit/echo", params={"callback_url": HOOK}, json={"text": "a"})).json()
    without = (await client.post("/submit/echo", json={"text": "b"})).json()
    assert (await client.delete(f"/tasks/{with_hook['task_id']}")).status_code == 202
    assert (await client.delete(f"/tasks/{without['task_id']}")).status_code == 202
    assert (await client.delete(f"/tasks/{with_hook['task_id']}")).status_code == 409
    task_id = with_hook["task_id"]
    assert deliveries(sent) == [
        (WEBHOOK.task_name, "taskgate.webhook", delivery_id(task_id), {"task_id": task_id})
    ]


@pytest.mark.usefixtures("never_finishing")
async def test_a_delivery_claimed_by_the_worker_first_is_not_sent_again(
    client: httpx.AsyncClient, redis: fakeredis.FakeAsyncRedis, sent: list[Sent]
) -> None:
    task_id = (await client.post("/submit/echo", params={"callback_url": HOOK}, json={"text": "a"})).json()[
        "task_id"
    ]
    await redis.hset(record_key(task_id), RecordField.WEBHOOK_CLAIMED, "by a worker")
    assert (await client.delete(f"/tasks/{task_id}")).status_code == 202
    assert deliveries(sent) == []


@pytest.fixture
def refusing_webhooks(outcomes: dict[str, Outcome]) -> None:
    """RabbitMQ refuses the webhook's delivery (a full queue, say); other tasks are sent as before."""
    outcomes["webhook"] = _refuse


def _refuse(_: dict[str, Any]) -> dict[str, Any] | None:
    raise ServiceUnavailableError("rabbitmq", "127.0.0.1:5672", "the queue is full", refused=True)


@pytest.mark.usefixtures("never_finishing", "refusing_webhooks")
async def test_a_delivery_that_cannot_be_queued_is_noted_failed_on_the_task(
    client: httpx.AsyncClient,
) -> None:
    task_id = (await client.post("/submit/echo", params={"callback_url": HOOK}, json={"text": "a"})).json()[
        "task_id"
    ]
    assert (await client.delete(f"/tasks/{task_id}")).status_code == 202
    webhook = TaskView.model_validate((await client.get(f"/tasks/{task_id}")).json()).webhook
    assert webhook is not None
    assert webhook.state == WebhookState.FAILED
    assert [attempt.error for attempt in webhook.attempts] == [
        "the delivery could not be queued: RabbitMQ at 127.0.0.1:5672: the queue is full"
    ]
