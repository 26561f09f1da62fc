"""/metrics counts requests by route template and status code; per task type, what was submitted and how the
waits for outcomes ended and took; and each task queue's depth and consumers."""

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from taskgate_api.metrics import exposition
from taskgate_contracts import QueueState

Outcome = Callable[[dict[str, Any]], dict[str, Any] | None]


def _count(text: str, labels: str) -> float:
    found = re.search(
        r"^taskgate_http_requests_total\{" + re.escape(labels) + r"\} (\S+)$", text, re.MULTILINE
    )
    return float(found.group(1)) if found else 0.0


def sample(name: str, **labels: str) -> float:
    """A series' current value in this process, as /metrics would show it; 0 before its first use."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_are_counted_by_route_template_and_code(offline_client: TestClient) -> None:
    invalid = 'code="422",method="POST",route="/process"'
    typed = 'code="422",method="POST",route="/submit/thumbnail"'
    unknown = 'code="404",method="GET",route="/tasks/{task_id}"'
    before = offline_client.get("/metrics").text
    offline_client.post("/process", json={"delay": -1})
    offline_client.post("/submit/thumbnail", json={})
    offline_client.get("/tasks/not-a-task")
    offline_client.get("/no/such/path")
    offline_client.post("/submit/no-such-type", json={})
    after = offline_client.get("/metrics").text
    assert _count(after, invalid) == _count(before, invalid) + 1
    assert _count(after, typed) == _count(before, typed) + 1
    assert _count(after, unknown) == _count(before, unknown) + 1
    assert 'route="unmatched"' in after
    # Names a client makes up never become labels: an unknown type counts under the route's template.
    assert "/no/such/path" not in after
    assert "no-such-type" not in after
    for name in ("taskgate_http_request_seconds", "taskgate_waiting_tasks"):
        assert name in after


OUTCOMES: dict[str, Outcome | None] = {
    "completed": lambda kwargs: {"status": "SUCCESS", "result": {"text": kwargs["text"]}},
    "failed": lambda _: {"status": "FAILURE", "result": {"exc_type": "ValueError", "exc_message": ["no"]}},
    "cancelled": lambda _: {"status": "REVOKED", "result": {"exc_type": "TaskRevokedError"}},
    "pending": None,  # the worker never gets to it
}


@pytest.mark.parametrize("outcome", OUTCOMES)
async def test_a_run_answer_counts_its_outcome_and_wait_under_its_type(
    client: httpx.AsyncClient, outcomes: dict[str, Outcome], outcome: str
) -> None:
    worker = OUTCOMES[outcome]
    if worker is None:
        outcomes.pop("echo")
    else:
        outcomes["echo"] = worker
    counted = {name: sample("taskgate_task_outcomes_total", task="echo", outcome=name) for name in OUTCOMES}
    waits = sample("taskgate_task_wait_seconds_count", task="echo")
    waited = sample("taskgate_task_wait_seconds_sum", task="echo")
    others = sample("taskgate_task_wait_seconds_count", task="process")
    submitted = sample("taskgate_tasks_submitted_total", task="echo")

    response = await client.post("/run/echo", json={"text": "hi"})
    assert response.status_code in (200, 202, 500), response.text

    for name, before in counted.items():
        assert sample("taskgate_task_outcomes_total", task="echo", outcome=name) == before + (name == outcome)
    assert sample("taskgate_task_wait_seconds_count", task="echo") == waits + 1
    # The histogram observes the answer's own `time`.
    assert sample("taskgate_task_wait_seconds_sum", task="echo") - waited == pytest.approx(
        response.json()["time"], abs=0.01
    )
    assert sample("taskgate_task_wait_seconds_count", task="process") == others
    assert sample("taskgate_tasks_submitted_total", task="echo") == submitted + 1


async def test_a_submit_answer_counts_no_outcome(client: httpx.AsyncClient) -> None:
    waits = sample("taskgate_task_wait_seconds_count", task="echo")
    submitted = sample("taskgate_tasks_submitted_total", task="echo")
    assert (await client.post("/submit/echo", json={"text": "hi"})).status_code == 202
    assert sample("taskgate_task_wait_seconds_count", task="echo") == waits
    assert sample("taskgate_tasks_submitted_total", task="echo") == submitted + 1


def test_the_queue_gauges_show_what_rabbitmq_said_of_each_queue() -> None:
    states = [
        QueueState(queue="taskgate", tasks=["process"], messages=3, consumers=1, detail="3 waiting"),
        QueueState(queue="taskgate.thumbnail", tasks=["thumbnail"], messages=0, consumers=0, detail="idle"),
        # Unknown figures (RabbitMQ unreachable) are left out, never shown as 0.
        QueueState(queue="taskgate.echo", tasks=["echo"], detail="RabbitMQ is unreachable"),
    ]
    text = exposition(states).decode()
    lines = set(text.splitlines())
    assert {
        'taskgate_queue_messages{queue="taskgate"} 3.0',
        'taskgate_queue_consumers{queue="taskgate"} 1.0',
        'taskgate_queue_messages{queue="taskgate.thumbnail"} 0.0',
        'taskgate_queue_consumers{queue="taskgate.thumbnail"} 0.0',
    } <= lines
    assert "taskgate.echo" not in text
    assert "# TYPE taskgate_queue_messages gauge" in lines
    # The rest of the api's metrics come along.
    assert "# TYPE taskgate_task_outcomes_total counter" in lines


def test_without_queue_states_the_gauges_are_declared_empty() -> None:
    text = exposition([]).decode()
    assert "# TYPE taskgate_queue_consumers gauge" in text
    assert "taskgate_queue_consumers{" not in text
