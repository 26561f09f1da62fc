"""One log line per transition of a task, sent through Celery's own signals as a worker sends them."""

import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from billiard.exceptions import SoftTimeLimitExceeded
from celery import Celery, Task, signals, states

TASK_ID = "6f1c0000-0000-0000-0000-000000000001"
WORKER = "test@taskgate"


@pytest.fixture
def task(app: Celery) -> Iterator[Task]:
    running: Task = app.tasks["taskgate.process"]
    running.push_request(id=TASK_ID, retries=1, hostname=WORKER)
    yield running
    running.pop_request()


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "taskgate_worker.tasks"]


def fields(record: logging.LogRecord) -> dict[str, object]:
    names = ("task_id", "task_type", "attempt", "worker", "outcome", "reason")
    return {name: record.__dict__[name] for name in names if name in record.__dict__}


def test_a_received_task_is_logged_by_its_type_and_attempt(
    app: Celery, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    request = SimpleNamespace(
        id=TASK_ID, task=app.tasks["taskgate.process"], request_dict={"retries": 0}, hostname=WORKER
    )
    signals.task_received.send(sender=None, request=request)
    (line,) = lines(caplog)
    assert line.getMessage() == "task received"
    assert fields(line) == {"task_id": TASK_ID, "task_type": "process", "attempt": 1, "worker": WORKER}


def test_a_started_then_retried_attempt(task: Task, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    signals.task_prerun.send(sender=task, task_id=TASK_ID, task=task)
    retry = SimpleNamespace(exc=ConnectionError("the page's server went away"))
    signals.task_retry.send(sender=task, request=task.request, reason=retry, einfo=None)

    started, retried = lines(caplog)
    assert (started.getMessage(), fields(started)["attempt"]) == ("task started", 2)
    assert retried.getMessage() == "task retried"
    assert fields(retried)["reason"] == "ConnectionError: the page's server went away"


@pytest.mark.parametrize(
    ("state", "retval", "outcome", "reason"),
    [
        (states.SUCCESS, {"result": "ok"}, "completed", None),
        (states.FAILURE, ValueError("no such image"), "failed", "ValueError: no such image"),
        (states.FAILURE, SoftTimeLimitExceeded(), "failed", "time limit exceeded"),
        (states.IGNORED, None, "cancelled", "cancelled by request"),
    ],
)
def test_a_finished_task_says_how_it_ended_and_why(
    task: Task, caplog: pytest.LogCaptureFixture, state: str, retval: object, outcome: str, reason: str | None
) -> None:
    caplog.set_level(logging.INFO)
    signals.task_postrun.send(sender=task, task_id=TASK_ID, task=task, retval=retval, state=state)
    (line,) = lines(caplog)
    assert line.getMessage() == "task finished"
    assert fields(line) == {
        "task_id": TASK_ID,
        "task_type": "process",
        "attempt": 2,
        "worker": WORKER,
        "outcome": outcome,
        **({"reason": reason} if reason else {}),
    }


def test_a_retry_is_not_an_end(task: Task, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    signals.task_postrun.send(sender=task, task_id=TASK_ID, task=task, retval=None, state=states.RETRY)
    assert lines(caplog) == []
