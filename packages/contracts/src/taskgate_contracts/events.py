"""What `GET /tasks/{task_id}/events` streams: Server-Sent Events, one task state each.

The stream starts with a `snapshot` of the task, then sends a `progress` event for every progress report
and a `state` event for every change of status, and ends after the event whose task status is terminal.
Every event carries an id; a client that reconnects with `Last-Event-ID` gets exactly the events after it.
"""

from enum import StrEnum

from pydantic import BaseModel

from taskgate_contracts.responses import TaskView


class TaskEventType(StrEnum):
    SNAPSHOT = "snapshot"
    STATE = "state"
    PROGRESS = "progress"


class TaskEvent(BaseModel):
    """One Server-Sent Event: its `event:` field is `type`, its `data:` is `task`, its `id:` is `id`."""

    id: str
    type: TaskEventType
    task: TaskView

    @property
    def last(self) -> bool:
        return self.task.status.terminal
