"""Messages name the contract version they were written with; a newer major version is refused unread."""

import logging
import time
import uuid

import pytest
import redis
from celery import Celery
from celery.result import AsyncResult

from taskgate_contracts.builtin.process import PROCESS
from taskgate_contracts.messages import CONTRACT_VERSION_HEADER
from taskgate_contracts.storage import record_key, result_key
from taskgate_worker.base import HandlerTask
from taskgate_worker.contract_version import unreadable_reason, version_checking_strategy

WAIT = 10


@pytest.mark.parametrize(
    ("written_with", "reader"),
    [
        (None, "0.1.0"),
        ("0.1.0", "0.1.0"),
        ("0.9.3", "0.1.0"),
        ("0.1.0", "1.0.0"),
        ("1.0.0", "1.7.2"),
        ("1.0.0rc2", "1.0.0"),
    ],
)
def test_an_older_or_equal_major_version_any_minor_is_read(written_with: str | None, reader: str) -> None:
    headers = {} if written_with is None else {CONTRACT_VERSION_HEADER: written_with}

    assert unreadable_reason(headers, reader) is None


def test_a_message_without_headers_is_read() -> None:
    assert unreadable_reason(None, "0.1.0") is None


def test_a_newer_major_version_is_refused_with_both_versions_named() -> None:
    reason = unreadable_reason({CONTRACT_VERSION_HEADER: "1.0.0"}, "0.4.2")

    assert reason == "it was written with contract 1.0.0, a newer major version than this worker's 0.4.2"


@pytest.mark.parametrize("written_with", ["latest", "", "v2", 3])
def test_a_version_that_is_not_one_is_refused(written_with: object) -> None:
    reason = unreadable_reason({CONTRACT_VERSION_HEADER: written_with}, "0.1.0")

    assert reason == f"its contract version {written_with!r} is not a version"


def test_every_hosted_task_is_checked(app: Celery) -> None:
    hosted = [task for task in app.tasks.values() if isinstance(task, HandlerTask)]
    assert PROCESS.task_name in {task.name for task in hosted}
    assert all(task.Strategy is version_checking_strategy for task in hosted)


def send_written_with(app: Celery, sent: list[str], version: str) -> AsyncResult:
    task_id = str(uuid.uuid4())
    sent.append(task_id)
    headers = {CONTRACT_VERSION_HEADER: version}
    return app.send_task(
        PROCESS.task_name, kwargs={"delay": 0}, queue=PROCESS.queue, task_id=task_id, headers=headers
    )


def test_a_message_of_a_newer_major_version_never_runs_and_says_why(
    app: Celery, worker: str, sent: list[str], redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="taskgate_worker.contract_version")
    refused = send_written_with(app, sent, "99.0.0")
    # Sent after the refused one on a FIFO queue: once it has run, the refused one has been handled.
    send_written_with(app, sent, "0.99.0").get(timeout=WAIT)
    deadline = time.monotonic() + WAIT
    while refused.id not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)

    assert f"task {PROCESS.task_name}[{refused.id}] rejected to the dead-letter queue" in caplog.text
    assert "written with contract 99.0.0, a newer major version than this worker's" in caplog.text
    assert redis_client.exists(result_key(refused.id), record_key(refused.id)) == 0


@pytest.mark.parametrize("version", ["0.0.1", "0.99.0"])
def test_a_message_of_the_same_major_version_runs(
    app: Celery, worker: str, sent: list[str], version: str
) -> None:
    assert send_written_with(app, sent, version).get(timeout=WAIT)["delay"] == 0
