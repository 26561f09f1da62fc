"""Where a task's state lives in Redis."""

RESULT_KEY_PREFIX = "celery-task-meta-"
#: The channels Celery's Redis backend publishes every state change on, one per task.
RESULT_CHANNEL_PATTERN = RESULT_KEY_PREFIX + "*"
_RECORD_KEY_PREFIX = "taskgate:task:"
_EVENTS_KEY_PREFIX = "taskgate:events:"

#: A task's event log keeps at most this many entries (a 3600 s task reports every 0.5 s).
EVENTS_MAX_LENGTH = 10_000


def result_key(task_id: str) -> str:
    return RESULT_KEY_PREFIX + task_id


def record_key(task_id: str) -> str:
    return _RECORD_KEY_PREFIX + task_id


def events_key(task_id: str) -> str:
    return _EVENTS_KEY_PREFIX + task_id
