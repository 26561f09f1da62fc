"""The Redis codec the api and the worker share: what a record and a stored state make of a task."""

import json
from datetime import UTC, datetime

from taskgate_contracts import (
    PROGRESS_STATE,
    Progress,
    TaskState,
    TaskView,
    WebhookAttempt,
    WebhookState,
    WebhookView,
)
from taskgate_contracts.storage import (
    CANCELLED_REASON,
    RESULT_CHANNEL_PATTERN,
    EventField,
    RecordField,
    ResultMeta,
    index_key,
    logged_event,
    record_key,
    result_key,
    revoked_meta,
    scripts,
    task_view,
)

QUEUED = {RecordField.TASK: "process", RecordField.QUEUED_AT: "2026-11-29T10:00:00+00:00"}
STARTED = {
    **QUEUED,
    RecordField.STARTED_AT: "2026-11-29T10:00:01+00:00",
    RecordField.WORKER: "w@h",
    RecordField.ATTEMPT: "2",
}


def meta(status: str, result: object, **more: object) -> ResultMeta:
    return ResultMeta.from_json(json.dumps({"status": status, "result": result, **more}))


def test_the_layout() -> None:
    assert result_key("abc") == "celery-task-meta-abc"
    assert RESULT_CHANNEL_PATTERN == "celery-task-meta-*"
    assert record_key("abc") == "taskgate:task:abc"


def test_nothing_stored_is_no_task() -> None:
    assert task_view("t", {}, None) is None


def test_a_record_alone_is_queued_or_running() -> None:
    queued = task_view("t", QUEUED, None)
    assert queued is not None
    assert (queued.status, queued.task, queued.attempts) == (
        TaskState.QUEUED,
        "process",
        0,
    )
    running = task_view("t", STARTED, None)
    assert running is not None
    assert (running.status, running.worker, running.attempts) == (TaskState.RUNNING, "w@h", 2)


def test_a_completed_task_carries_its_result_as_json() -> None:
    done = meta("SUCCESS", {"result": "ok", "delay": 2}, date_done="2026-11-29T10:00:03+00:00")
    view = task_view("t", STARTED, done)
    assert view is not None
    assert (view.status, view.result, view.error, view.progress.percent) == (
        TaskState.COMPLETED,
        {"result": "ok", "delay": 2},
        None,
        100,
    )


def test_the_type_comes_from_the_stored_state_when_an_older_api_wrote_no_record_of_it() -> None:
    view = task_view("t", {}, meta("SUCCESS", {}, name="taskgate.thumbnail"))
    assert view is not None
    assert view.task == "thumbnail"


def test_a_failure_says_why_without_a_traceback() -> None:
    failed = meta(
        "FAILURE", {"exc_type": "ValueError", "exc_message": ["bad image"]}, traceback="Traceback …"
    )
    assert failed.error == "ValueError: bad image"
    assert meta("FAILURE", {"exc_type": "SoftTimeLimitExceeded"}).error == "time limit exceeded"
    assert failed.task_state is TaskState.FAILED


def test_progress_and_retries() -> None:
    reported = meta(PROGRESS_STATE, {"percent": 50, "current": 1, "total": 2, "message": "half"})
    assert (reported.task_state, reported.progress.percent) == (TaskState.RUNNING, 50)
    assert meta("RETRY", {"exc_type": "TransientError"}).task_state is TaskState.QUEUED


def test_the_cancel_mark_is_the_word_until_the_task_has_finished() -> None:
    cancelled = {**STARTED, RecordField.CANCELLED_AT: "2026-11-29T10:00:02+00:00"}
    view = task_view("t", cancelled, meta(PROGRESS_STATE, {"percent": 10}))
    assert view is not None
    assert (view.status, view.error) == (TaskState.CANCELLED, CANCELLED_REASON)
    finished = task_view("t", cancelled, meta("SUCCESS", {"delay": 0}))
    assert finished is not None
    assert finished.status is TaskState.COMPLETED


def test_the_revoked_state_is_celerys() -> None:
    revoked = json.loads(revoked_meta("t"))
    assert (revoked["status"], revoked["task_id"]) == ("REVOKED", "t")
    assert ResultMeta.from_json(revoked_meta("t")).task_state is TaskState.CANCELLED


def test_logged_events_apply_in_order() -> None:
    start = logged_event(
        "1-0",
        {
            EventField.TYPE: "state",
            EventField.STATUS: "running",
            EventField.STARTED_AT: "2026-11-29T10:00:01+00:00",
        },
    )
    progress = logged_event(
        "2-0",
        {EventField.TYPE: "progress", EventField.STATUS: "running", EventField.PROGRESS: '{"percent": 40}'},
    )
    view = TaskView(task_id="t", status=TaskState.QUEUED)
    view = progress.applied_to(start.applied_to(view))
    assert (view.status, view.progress, view.started_at is not None) == (
        TaskState.RUNNING,
        Progress(percent=40),
        True,
    )


def test_the_notes_a_worker_writes() -> None:
    start = scripts.start_note(600, "2026-11-29T10:00:01+00:00", "w@h", 1)
    assert start[:2] == [600, 3]
    assert start[2:8] == ["started_at", "2026-11-29T10:00:01+00:00", "worker", "w@h", "attempt", "1"]
    progress = scripts.progress_note(600, Progress(percent=50))
    assert progress[:2] == [600, 0]
    assert scripts.note_keys("t") == ["taskgate:task:t", "taskgate:events:t"]


def test_the_arguments_of_queueing_tasks() -> None:
    retention = scripts.Retention(expires=60, history=120, tombstone=600)
    tasks = [scripts.NewTask("a", "process"), scripts.NewTask("b", "thumbnail", "reports", 5)]
    assert scripts.create_args("now", retention, tasks) == [
        "now",
        60,
        120_000_000,
        600,
        *("a", "process", "", 0, ""),
        *("b", "thumbnail", "reports", 5, ""),
    ]
    hooked = scripts.NewTask("c", "process", "team-a", None, "https://hooks.example.com/x")
    assert scripts.create_args("now", retention, [hooked])[4:] == [
        *("c", "process", "team-a", 0, "https://hooks.example.com/x")
    ]


def test_a_task_without_a_callback_url_has_no_webhook_section() -> None:
    view = task_view("t", QUEUED, None)
    assert view is not None
    assert view.webhook is None


def test_a_webhook_is_pending_until_its_delivery_notes_an_attempt() -> None:
    view = task_view("t", {**QUEUED, RecordField.WEBHOOK_URL: "https://h/x"}, None)
    assert view is not None
    assert view.webhook == WebhookView(url="https://h/x", state=WebhookState.PENDING)


def test_the_notes_of_a_delivery_make_the_webhook_section() -> None:
    failed = WebhookAttempt(at=datetime(2026, 11, 29, 10, tzinfo=UTC), status=500, error="HTTP 500")
    next_at = datetime(2026, 11, 29, 10, 0, 2, tzinfo=UTC)
    note = scripts.webhook_note(600, WebhookState.DELIVERING, [failed], next_at)
    assert note[:2] == [600, "delivering"]
    assert note[3] == next_at.isoformat()
    record = {
        **QUEUED,
        RecordField.WEBHOOK_URL: "https://h/x",
        RecordField.WEBHOOK_STATE: str(note[1]),
        RecordField.WEBHOOK_ATTEMPTS: str(note[2]),
        RecordField.WEBHOOK_NEXT_AT: str(note[3]),
    }
    view = task_view("t", record, meta("SUCCESS", {}))
    assert view is not None
    assert view.webhook == WebhookView(
        url="https://h/x", state=WebhookState.DELIVERING, attempts=[failed], next_attempt_at=next_at
    )
    assert scripts.webhook_note(600, WebhookState.DELIVERED, [failed], None)[3] == ""


def test_index_keys_name_their_filters() -> None:
    assert index_key() == "taskgate:index"
    assert index_key("process") == "taskgate:index:task:process"
    assert index_key(key_name="reports") == "taskgate:index:key:reports"
    assert index_key("process", "reports") == "taskgate:index:key:reports:task:process"
