"""A task's changes as events: a snapshot, then every logged change, then its final state.

Logged changes come from the task's event log in Redis (written by the api and the worker, each with an
id that orders it); the result hub says when there is something new to read, so nothing is polled.
Resuming after an event id sends exactly the events after it; the final event's id is `final`.
"""

from collections.abc import AsyncIterator

from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.waiting import ResultHub
from taskgate_contracts import TaskEvent, TaskEventType, TaskView

FINAL_EVENT_ID = "final"


async def task_events(
    task_id: str, records: TaskRecords, hub: ResultHub, last_event_id: str | None
) -> AsyncIterator[TaskEvent]:
    if last_event_id == FINAL_EVENT_ID:
        return
    with hub.follow(task_id) as changes:
        cursor = last_event_id or await records.last_event_id(task_id)
        view = await records.view(task_id)
        if view is None:
            return
        finished = view.status.terminal
        if last_event_id is None:
            yield TaskEvent(id=FINAL_EVENT_ID if finished else cursor, type=TaskEventType.SNAPSHOT, task=view)
            if finished:
                return
        while True:
            for logged in await records.events_after(task_id, cursor):
                view = logged.applied_to(view)
                cursor = logged.id
                yield TaskEvent(id=cursor, type=logged.type, task=view)
            if finished:
                final: TaskView = await records.view(task_id) or view
                yield TaskEvent(id=FINAL_EVENT_ID, type=TaskEventType.STATE, task=final)
                return
            finished = (await changes.get()).finished
