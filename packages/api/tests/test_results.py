"""Reading Celery's stored states back: outcome, progress and a failure reason without a traceback."""

import json

from taskgate_api.results import ResultMeta
from taskgate_contracts import TIME_LIMIT_EXCEEDED, TaskState


def meta(status: str, result: object, **extra: object) -> ResultMeta:
    return ResultMeta.from_json(json.dumps({"status": status, "result": result, **extra}))


def test_success() -> None:
    done = meta(
        "SUCCESS", {"result": "Запрос выполнен успешно", "delay": 2}, date_done="2026-11-24T10:00:00+00:00"
    )
    assert done.finished
    assert done.task_state is TaskState.COMPLETED
    assert done.result_text == "Запрос выполнен успешно"
    assert done.progress.percent == 100
    assert done.date_done is not None
    assert done.date_done.year == 2026


def test_progress_is_running_not_finished() -> None:
    running = meta("PROGRESS", {"percent": 40, "current": 2, "total": 5, "message": "slept 1 of 2.5 s"})
    assert not running.finished
    assert running.task_state is TaskState.RUNNING
    assert running.progress.percent == 40
    assert running.progress.message == "slept 1 of 2.5 s"


def test_pending_is_queued() -> None:
    assert meta("PENDING", None).task_state is TaskState.QUEUED


def test_soft_and_hard_time_limits_read_the_same() -> None:
    soft = meta("FAILURE", {"exc_type": "SoftTimeLimitExceeded", "exc_message": [], "exc_module": "billiard"})
    hard = meta(
        "FAILURE", {"exc_type": "TimeLimitExceeded", "exc_message": ["35.0"], "exc_module": "billiard"}
    )
    for failed in (soft, hard):
        assert failed.finished
        assert failed.task_state is TaskState.FAILED
        assert failed.error == TIME_LIMIT_EXCEEDED


def test_other_failures_name_the_exception_and_its_message() -> None:
    failed = meta(
        "FAILURE",
        {"exc_type": "ValueError", "exc_message": ["delay must be finite"], "exc_module": "builtins"},
        traceback="Traceback (most recent call last): ...",
    )
    assert failed.error == "ValueError: delay must be finite"
    assert "Traceback" not in failed.error


def test_failure_without_details_still_has_a_reason() -> None:
    assert meta("FAILURE", None).error == "failure"
