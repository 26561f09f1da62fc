"""A task's record and event log: their fields, and the task view they make with its Celery state."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from taskgate_contracts.events import TaskEventType
from taskgate_contracts.progress import Progress
from taskgate_contracts.responses import TaskState, TaskView, WebhookAttempt, WebhookState, WebhookView
from taskgate_contracts.storage.results import ResultMeta, revoked_meta


class RecordField:
    """Fields of a task's record (a hash). The api writes TASK, QUEUED_AT and KEY (the name of the API key
    that submitted it, when keys are on) when it queues the task, and CANCELLED_AT when it is cancelled;
    the worker writes the others when an attempt starts."""

    TASK = "task"
    KEY = "key"
    QUEUED_AT = "queued_at"
    STARTED_AT = "started_at"
    WORKER = "worker"
    ATTEMPT = "attempt"
    CANCELLED_AT = "cancelled_at"
    #: A task submitted with a callback URL: the api writes the URL (the worker signs with the secret of
    #: the key named by KEY, or the default one without keys). The first to record the task's end claims its
    #: webhook (CLAIMED) and sends the delivery; the delivery writes STATE, ATTEMPTS (a JSON list of
    #: `WebhookAttempt`) and NEXT_AT.
    WEBHOOK_URL = "webhook_url"
    WEBHOOK_CLAIMED = "webhook_claimed"
    WEBHOOK_STATE = "webhook_state"
    WEBHOOK_ATTEMPTS = "webhook_attempts"
    WEBHOOK_NEXT_AT = "webhook_next_at"


class EventField:
    """Fields of one event log entry; `progress` is a `Progress` as JSON."""

    TYPE = "type"
    STATUS = "status"
    PROGRESS = "progress"
    STARTED_AT = "started_at"
    WORKER = "worker"


def task_view(
    task_id: str, record: Mapping[str, str], meta: ResultMeta | None, lives: Sequence[int] = ()
) -> TaskView | None:
    """Everything known of a task from its record and its latest stored state; None when neither
    exists (it was never submitted, or it has expired). `lives` are when the record and the stored state
    expire, in Unix milliseconds (Redis's PEXPIRETIME: the same on every read until a write renews it);
    the view lasts as long as the longer-lived of the two."""
    if meta is None and not record:
        return None
    last = max(lives, default=0)
    view = TaskView(
        task_id=task_id,
        task=record.get(RecordField.TASK),
        status=TaskState.RUNNING if RecordField.STARTED_AT in record else TaskState.QUEUED,
        queued_at=record.get(RecordField.QUEUED_AT),
        started_at=record.get(RecordField.STARTED_AT),
        worker=record.get(RecordField.WORKER),
        attempts=int(record.get(RecordField.ATTEMPT, 0)),
        submitted_by=record.get(RecordField.KEY),
        expires_at=datetime.fromtimestamp(last / 1000, UTC) if last > 0 else None,
        webhook=webhook_view(record),
    )
    if RecordField.CANCELLED_AT in record and not (meta is not None and meta.finished):
        # The cancel mark is the word: a progress report may have overwritten the stored state since.
        meta = ResultMeta.from_json(revoked_meta(task_id))
    return view if meta is None else meta.applied_to(view)


def webhook_view(record: Mapping[str, str]) -> WebhookView | None:
    """The task's completion webhook as its record holds it; None when it has no callback URL."""
    url = record.get(RecordField.WEBHOOK_URL)
    if url is None:
        return None
    attempts = json.loads(record.get(RecordField.WEBHOOK_ATTEMPTS) or "[]")
    return WebhookView(
        url=url,
        state=WebhookState(record.get(RecordField.WEBHOOK_STATE, WebhookState.PENDING)),
        attempts=[WebhookAttempt.model_validate(attempt) for attempt in attempts],
        next_attempt_at=record.get(RecordField.WEBHOOK_NEXT_AT) or None,
    )


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One entry of a task's event log."""

    id: str
    type: TaskEventType
    status: TaskState
    progress: Progress
    started_at: str | None
    worker: str | None

    def applied_to(self, view: TaskView) -> TaskView:
        """The task as it was right after this event."""
        return view.model_copy(
            update={
                "status": self.status,
                "progress": self.progress,
                "started_at": self.started_at or view.started_at,
                "worker": self.worker or view.worker,
            }
        )


def logged_event(entry_id: str, fields: Mapping[str, str]) -> LoggedEvent:
    """An event log entry as Redis returns it (fields decoded to text)."""
    progress = fields.get(EventField.PROGRESS)
    return LoggedEvent(
        id=entry_id,
        type=TaskEventType(fields[EventField.TYPE]),
        status=TaskState(fields[EventField.STATUS]),
        progress=Progress.model_validate(json.loads(progress)) if progress else Progress(),
        started_at=fields.get(EventField.STARTED_AT),
        worker=fields.get(EventField.WORKER),
    )
