"""The Redis layout the worker writes and the api reads.

Results and progress use Celery's own Redis result backend format: the worker's backend stores each
state change under `celery-task-meta-<id>` and publishes it on a channel of the same name, which is
what lets the api learn of a result the moment it exists. Beside it, each task has:

- a record (a hash, `taskgate:task:<id>`): when the api queued it, when and where it started, whether
  it was cancelled — what Celery does not keep;
- an event log (a stream, `taskgate:events:<id>`): every state and progress change in order, so a client
  following the task can resume after a dropped connection without losing or repeating an event.
"""

RESULT_KEY_PREFIX = "celery-task-meta-"
RESULT_CHANNEL_PATTERN = RESULT_KEY_PREFIX + "*"
_RECORD_KEY_PREFIX = "taskgate:task:"
_EVENTS_KEY_PREFIX = "taskgate:events:"

#: A task's event log keeps at most this many entries (a 3600 s task reports every 0.5 s).
EVENTS_MAX_LENGTH = 10_000

#: Why a cancelled task ended, as `GET /tasks/{id}` reports it.
CANCELLED_REASON = "cancelled by request"


class RecordField:
    QUEUED_AT = "queued_at"
    STARTED_AT = "started_at"
    WORKER = "worker"
    CANCELLED_AT = "cancelled_at"


class EventField:
    """Fields of one event log entry; `progress` is a `Progress` as JSON."""

    TYPE = "type"
    STATUS = "status"
    PROGRESS = "progress"
    STARTED_AT = "started_at"
    WORKER = "worker"


def result_key(task_id: str) -> str:
    return RESULT_KEY_PREFIX + task_id


def record_key(task_id: str) -> str:
    return _RECORD_KEY_PREFIX + task_id


def events_key(task_id: str) -> str:
    return _EVENTS_KEY_PREFIX + task_id
