"""The Redis layout of a task, which the api and the worker share: one codec, used by both sides.

Results and progress use Celery's own Redis result backend format: the worker's backend stores each
state change under `celery-task-meta-<id>` and publishes it on a channel of the same name, which is
what lets the api learn of a result the moment it exists (`results`). Beside it, each task has:

- a record (a hash, `taskgate:task:<id>`): its type, when the api queued it, when and where it started
  and on which attempt, whether it was cancelled — what Celery does not keep (`records`);
- an event log (a stream, `taskgate:events:<id>`): every state and progress change in order, so a client
  following the task can resume after a dropped connection without losing or repeating an event;
- a tombstone (`taskgate:gone:<id>`, the submitting key's name), kept longer than the record, so an
  expired task is told apart from one that never existed;
- entries in the history's sorted sets (`taskgate:index…`), and, for a key with an in-flight limit, in
  the key's set of tasks in flight (`taskgate:in-flight:<name>`).

Everything that writes them is a Lua script here (`scripts`), so each write is atomic and both sides
write the same fields the same way.
"""

from taskgate_contracts.storage.keys import (
    EVENTS_MAX_LENGTH,
    RESULT_CHANNEL_PATTERN,
    RESULT_KEY_PREFIX,
    events_key,
    in_flight_key,
    index_key,
    record_key,
    result_key,
    tombstone_key,
)
from taskgate_contracts.storage.records import (
    EventField,
    LoggedEvent,
    RecordField,
    logged_event,
    task_view,
)
from taskgate_contracts.storage.results import CANCELLED_REASON, ResultMeta, revoked_meta

__all__ = [
    "CANCELLED_REASON",
    "EVENTS_MAX_LENGTH",
    "RESULT_CHANNEL_PATTERN",
    "RESULT_KEY_PREFIX",
    "EventField",
    "LoggedEvent",
    "RecordField",
    "ResultMeta",
    "events_key",
    "in_flight_key",
    "index_key",
    "logged_event",
    "record_key",
    "result_key",
    "revoked_meta",
    "task_view",
    "tombstone_key",
]
