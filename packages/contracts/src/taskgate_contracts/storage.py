"""The Redis layout the worker writes and the api reads.

Results and progress use Celery's own Redis result backend format: the worker's backend stores each
state change under `celery-task-meta-<id>` and publishes it on a channel of the same name, which is
what lets the api learn of a result the moment it exists. Beside it, a small hash per task records what
Celery does not: when the api queued the task, and when and where it started.
"""

RESULT_KEY_PREFIX = "celery-task-meta-"
RESULT_CHANNEL_PATTERN = RESULT_KEY_PREFIX + "*"
_RECORD_KEY_PREFIX = "taskgate:task:"


class RecordField:
    QUEUED_AT = "queued_at"
    STARTED_AT = "started_at"
    WORKER = "worker"


def result_key(task_id: str) -> str:
    return RESULT_KEY_PREFIX + task_id


def record_key(task_id: str) -> str:
    return _RECORD_KEY_PREFIX + task_id
