"""One webhook attempt: the destination checked again at delivery, after its name is resolved, the request
sent to the checked address with the name kept for `Host`, signed per Standard Webhooks, never redirected."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from taskgate_contracts.destinations import DestinationPolicy, parse_allowed_hosts
from taskgate_worker import delivery
from taskgate_worker.tasks.webhook import backoff

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver(ThreadingHTTPServer):
    """Answers each POST with the next of `statuses` (then 204), keeping what it got."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.received.append(({key.lower(): value for key, value in self.headers.items()}, body))
        status = self.server.statuses.pop(0) if self.server.statuses else 204
        self.send_response(status)
        if status == 302:
            self.send_header("location", "http://127.0.0.1:1/elsewhere")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def policy(text: str) -> DestinationPolicy:
    return DestinationPolicy(parse_allowed_hosts(text))


def resolving_to(*addresses: str) -> delivery.Resolver:
    return lambda host, port: list(addresses)


def test_a_name_is_posted_to_the_address_it_was_checked_at(receiver: Receiver) -> None:
    # hooks.test resolves to loopback, which only its IP entry lets through.
    rules = policy(f"hooks.test:{receiver.port}, 127.0.0.1")
    url = f"http://hooks.test:{receiver.port}/hook?team=a"
    outcome = delivery.post(
        rules, url, '{"a": 1}', {"x-extra": "1"}, 5, resolving_to("10.0.0.5", "127.0.0.1")
    )
    assert (outcome.status, outcome.error, outcome.delivered) == (204, None, True)
    [(headers, body)] = receiver.received
    assert headers["host"] == f"hooks.test:{receiver.port}"
    assert (headers["content-type"], headers["x-extra"], body) == ("application/json", "1", b'{"a": 1}')
    assert headers["user-agent"].startswith("taskgate-worker/")


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_delivery(receiver: Receiver) -> None:
    rules = policy(f"hooks.test:{receiver.port}")  # accepted at submit: the name is listed
    with pytest.raises(delivery.RefusedError) as refused:
        delivery.post(
            rules, f"http://hooks.test:{receiver.port}/", "{}", {}, 5, resolving_to("127.0.0.1", "10.1.1.1")
        )
    assert str(refused.value) == (
        "hooks.test resolves to no allowed address: "
        "127.0.0.1 is a loopback address, refused unless WEBHOOK_ALLOWED_HOSTS lists it; "
        "10.1.1.1 is a private address, refused unless WEBHOOK_ALLOWED_HOSTS lists it"
    )
    assert receiver.received == []


def test_a_destination_no_longer_allowed_is_refused_at_delivery() -> None:
    with pytest.raises(delivery.RefusedError, match="is not a destination WEBHOOK_ALLOWED_HOSTS allows"):
        delivery.post(policy("other.test"), "https://hooks.test/", "{}", {}, 5, resolving_to("93.184.215.14"))


def test_a_name_that_does_not_resolve_is_a_failed_attempt() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    outcome = delivery.post(policy("hooks.test"), "https://hooks.test/", "{}", {}, 5, fails)
    assert (outcome.status, outcome.error) == (None, "cannot resolve hooks.test: Name or service not known")


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, "HTTP 500"), (302, "HTTP 302 (redirects are not followed)"), (410, "HTTP 410")],
)
def test_an_answer_but_2xx_is_a_failed_attempt(receiver: Receiver, status: int, error: str) -> None:
    receiver.statuses = [status]
    outcome = delivery.post(policy("127.0.0.1"), f"http://127.0.0.1:{receiver.port}/", "{}", {}, 5)
    assert (outcome.status, outcome.error) == (status, error)
    assert len(receiver.received) == 1  # the redirect was not followed


def test_no_answer_is_a_failed_attempt() -> None:
    outcome = delivery.post(policy("127.0.0.1"), "http://127.0.0.1:1/", "{}", {}, 5)
    assert outcome.status is None
    assert outcome.error is not None
    assert outcome.error.startswith("ConnectError")


def test_a_receiver_verifies_the_signature_with_standardwebhooks() -> None:
    body = '{"task_id": "t", "status": "completed"}'
    headers = delivery.signed_headers(SECRET, "t", datetime.now(UTC), body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert Webhook(SECRET).verify(body, headers) == {"task_id": "t", "status": "completed"}


def test_the_backoff_doubles_up_to_its_bound_half_fixed() -> None:
    for attempts, low, high in [(1, 0.5, 1), (2, 1, 2), (4, 4, 8), (30, 150, 300)]:
        waits = [backoff(attempts) for _ in range(50)]
        assert all(low <= wait <= high for wait in waits), (attempts, waits)
