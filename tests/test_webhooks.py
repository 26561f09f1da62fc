"""Completion webhooks on the real stack: an api and workers on RabbitMQ and Redis, one worker hosting the
`webhook` type on its queue, and a receiver in this test on the loopback — which WEBHOOK_ALLOWED_HOSTS
must therefore list, by address and port."""

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from standardwebhooks import Webhook

from taskgate_contracts import TaskState, TaskView, WebhookState
from taskgate_contracts.builtin.webhook import delivery_id
from testkit.infrastructure import TaskKeys, temporary_vhost
from testkit.processes import Service, free_port, running, settings_env, start_api, start_worker, wait_ready
from tests.client import connect, task_view, wait_for_state
from tests.settings import PATIENT_TIMEOUT

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#: The API key the tests submit with: its name is the one WEBHOOK_SECRETS holds a secret for.
TEAM, TEAM_KEY = "team-a", "team-a-key"
AS_TEAM = {"Authorization": f"Bearer {TEAM_KEY}"}
#: Long enough for three attempts: the waits before the 2nd and the 3rd are at most 1 s and 2 s.
DELIVERED_WITHIN = 30


@dataclass(frozen=True)
class Received:
    """A request as the receiver got it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next(value for key, value in self.headers if key.lower() == name)

    def shown(self) -> str:
        lines = [f"{self.method} {self.path} HTTP/1.1", *(f"{key}: {value}" for key, value in self.headers)]
        return "\n".join([*lines, "", self.body.decode()])


class Receiver(ThreadingHTTPServer):
    """A team's webhook endpoint: answers each delivery with the next of `statuses`, then 204."""

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.statuses: list[int] = []
        self.received: list[Received] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def deliveries_to(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.received.append(Received("POST", self.path, list(self.headers.items()), body))
        self.send_response(self.server.statuses.pop(0) if self.server.statuses else 204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def webhook_api(
    request: pytest.FixtureRequest,
    task_keys: TaskKeys,
    tmp_path_factory: pytest.TempPathFactory,
    receiver: Receiver,
) -> Iterator[Service]:
    """An api, a worker of `process` and a worker of `webhook` (its own queue), the receiver allowed."""
    # The key's name picks the secret that signs: none but the team's own is given to the worker.
    webhooks = {
        "webhook_allowed_hosts": f"127.0.0.1:{receiver.server_address[1]}",
        "webhook_secrets": json.dumps({TEAM: SECRET}),
        "api_keys": json.dumps([{"name": TEAM, "key": TEAM_KEY, "role": "client"}]),
    }
    with temporary_vhost() as vhost:
        env = settings_env(vhost, task_timeout=PATIENT_TIMEOUT, **webhooks)
        with (
            running(
                request.config, start_worker(env, tmp_path_factory.mktemp("w"), tasks="process")
            ) as worker,
            running(request.config, start_worker(env, tmp_path_factory.mktemp("wh"), tasks="webhook")),
            running(request.config, start_api("webhook-api", env, tmp_path_factory.mktemp("api"))) as api,
        ):
            wait_ready(api, worker, AS_TEAM)
            yield api


@pytest.fixture
async def client(webhook_api: Service, task_keys: TaskKeys) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(webhook_api.url, task_keys) as http:
        http.headers.update(AS_TEAM)
        yield http


async def submitted(client: httpx.AsyncClient, task_keys: TaskKeys, callback_url: str, delay: float) -> str:
    response = await client.post(
        "/submit/process", params={"callback_url": callback_url}, json={"delay": delay}
    )
    assert response.status_code == httpx.codes.ACCEPTED, response.text
    task_id: str = response.json()["task_id"]
    task_keys.add(delivery_id(task_id))  # the delivery's own keys go with the test's
    return task_id


async def delivered(client: httpx.AsyncClient, task_id: str) -> TaskView:
    deadline = time.monotonic() + DELIVERED_WITHIN
    view = await task_view(client, task_id)
    while view.webhook is None or view.webhook.state is not WebhookState.DELIVERED:
        assert time.monotonic() < deadline, f"not delivered after {DELIVERED_WITHIN} s: {view.webhook}"
        await asyncio.sleep(0.2)
        view = await task_view(client, task_id)
    return view


async def test_a_receiver_failing_twice_verifies_the_third_delivery(
    client: httpx.AsyncClient, task_keys: TaskKeys, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500]
    task_id = await submitted(client, task_keys, receiver.url("/hooks/flaky"), delay=0.2)

    view = await delivered(client, task_id)
    first, second, third = receiver.deliveries_to("/hooks/flaky")
    payload = Webhook(SECRET).verify(third.body, dict(third.headers))
    # The payload is the task's view, as GET /tasks/{id} gives it, without its webhook section and its
    # expiry (which each attempt's notes renew): the same body on every attempt.
    assert payload == json.loads(view.model_dump_json(exclude={"webhook", "expires_at"}))
    assert payload["submitted_by"] == TEAM
    assert (payload["task_id"], payload["status"], payload["result"]["delay"]) == (task_id, "completed", 0.2)
    # One message, tried three times: the same webhook-id and body; each attempt signed when it is made.
    assert {request.header("webhook-id") for request in (first, second, third)} == {task_id}
    assert first.body == third.body
    assert third.header("content-type") == "application/json"

    assert view.status is TaskState.COMPLETED
    assert view.webhook is not None
    attempts = view.webhook.attempts
    assert [(attempt.status, attempt.error) for attempt in attempts] == [
        (500, "HTTP 500"),
        (500, "HTTP 500"),
        (204, None),
    ]
    assert view.webhook.next_attempt_at is None
    # Exponential backoff: about 0.5–1 s, then 1–2 s.
    waits = [(later.at - earlier.at).total_seconds() for earlier, later in itertools.pairwise(attempts)]
    assert 0.5 <= waits[0] <= 1.5
    assert 1 <= waits[1] <= 2.5
    print(f"\nthe third delivery, as the receiver got it:\n{third.shown()}")


async def test_a_task_cancelled_while_queued_is_delivered_cancelled_once(
    client: httpx.AsyncClient, task_keys: TaskKeys, receiver: Receiver
) -> None:
    busy = (await client.post("/submit/process", json={"delay": 3})).json()["task_id"]  # holds the worker
    await wait_for_state(client, busy, TaskState.RUNNING, within=10)
    task_id = await submitted(client, task_keys, receiver.url("/hooks/cancelled"), delay=1)
    assert (await client.delete(f"/tasks/{task_id}")).status_code == httpx.codes.ACCEPTED

    view = await delivered(client, task_id)
    assert view.status is TaskState.CANCELLED
    [delivery] = receiver.deliveries_to("/hooks/cancelled")
    assert Webhook(SECRET).verify(delivery.body, dict(delivery.headers))["status"] == "cancelled"
    # The worker skips the cancelled task when it comes up, and finds the delivery claimed.
    await client.delete(f"/tasks/{busy}")
    await asyncio.sleep(1)
    assert len(receiver.deliveries_to("/hooks/cancelled")) == 1


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://10.0.0.1/hook", "10.0.0.1:80 is not a destination WEBHOOK_ALLOWED_HOSTS allows"),
        (
            "http://127.0.0.1:{other}/hook",
            "127.0.0.1:{other} is not a destination WEBHOOK_ALLOWED_HOSTS allows",
        ),
        (
            "http://localhost:{port}/hook",
            "localhost:{port} is not a destination WEBHOOK_ALLOWED_HOSTS allows",
        ),
    ],
)
async def test_a_destination_not_allowed_is_refused_at_submit(
    client: httpx.AsyncClient, receiver: Receiver, url: str, problem: str
) -> None:
    port = int(receiver.server_address[1])
    names = {"port": port, "other": port + 1 if port < 65535 else port - 1}
    response = await client.post(
        "/submit/process", params={"callback_url": url.format(**names)}, json={"delay": 0}
    )
    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
    assert response.json()["detail"] == [
        {"loc": ["query", "callback_url"], "msg": problem.format(**names), "type": "url_not_allowed"}
    ]
