"""Where a task's state lives in Redis."""

RESULT_KEY_PREFIX = "celery-task-meta-"
#: The channels Celery's Redis backend publishes every state change on, one per task.
RESULT_CHANNEL_PATTERN = RESULT_KEY_PREFIX + "*"
_RECORD_KEY_PREFIX = "taskgate:task:"
_EVENTS_KEY_PREFIX = "taskgate:events:"
TOMBSTONE_KEY_PREFIX = "taskgate:gone:"
#: The history's sorted sets (member: task id, score: when it was queued, in microseconds of Redis's
#: clock, each task's above the last): every task, then per type (`:task:<type>`), per key
#: (`:key:<name>`) and per key and type.
INDEX_KEY = "taskgate:index"
#: The last score the history gave, so the next is above it.
HISTORY_CLOCK_KEY = "taskgate:index-clock"
#: Per key name, a sorted set of the tasks it has queued or running (score: when queued).
IN_FLIGHT_KEY_PREFIX = "taskgate:in-flight:"

#: A task's event log keeps at most this many entries (a 3600 s task reports every 0.5 s).
EVENTS_MAX_LENGTH = 10_000


def result_key(task_id: str) -> str:
    return RESULT_KEY_PREFIX + task_id


def record_key(task_id: str) -> str:
    return _RECORD_KEY_PREFIX + task_id


def events_key(task_id: str) -> str:
    return _EVENTS_KEY_PREFIX + task_id


def tombstone_key(task_id: str) -> str:
    return TOMBSTONE_KEY_PREFIX + task_id


def index_key(task_type: str | None = None, key_name: str | None = None) -> str:
    """The history index of the tasks of `task_type` submitted with `key_name` (either or both None: any)."""
    key = INDEX_KEY
    if key_name is not None:
        key += f":key:{key_name}"
    if task_type is not None:
        key += f":task:{task_type}"
    return key


def in_flight_key(key_name: str) -> str:
    return IN_FLIGHT_KEY_PREFIX + key_name
