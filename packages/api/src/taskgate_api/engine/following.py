"""A task's changes as events: a snapshot, then every logged change, then its final state.

Logged changes come from the task's event log in Redis (written by the api and the worker, each with an
id that orders it); the result hub says when there is something new to read, so nothing is polled.
Resuming after an event id sends exactly the events after it; the final event's id is `final`.

Every follower of a task in this process shares one reader of its log, a `TaskFeed`: when the hub says
the task changed, the feed reads the new entries once and makes each event once, its Server-Sent Event
frame (the task's JSON) included, and every follower sends those same bytes. A feed keeps its last
`WINDOW` events; a follower that falls further behind than that — a slow client, or one resuming from an
older id — reads what it missed from the log itself, from its own cursor, and then takes the feed's
events again: nothing is skipped, repeated or reordered. A follower holds nothing but its cursor.
"""

import asyncio
import contextlib
import contextvars
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from taskgate_api.engine.errors import ServiceUnavailableError
from taskgate_api.engine.records import TaskRecords
from taskgate_api.engine.waiting import ResultHub
from taskgate_contracts import TaskEvent, TaskEventType, TaskView
from taskgate_contracts.storage import ResultMeta

FINAL_EVENT_ID = "final"
#: The events a feed keeps for followers that are behind: 8 s of a task reporting twice a second.
WINDOW = 16


@dataclass(frozen=True, slots=True)
class SentEvent:
    """An event and its Server-Sent Event frame, made once for every follower that sends it."""

    event: TaskEvent
    frame: bytes

    @classmethod
    def of(cls, event_id: str, event_type: TaskEventType, task: TaskView) -> "SentEvent":
        event = TaskEvent(id=event_id, type=event_type, task=task)
        frame = b"id: %s\r\nevent: %s\r\ndata: %s\r\n\r\n" % (
            event_id.encode(),
            event_type.value.encode(),
            task.model_dump_json().encode(),
        )
        return cls(event, frame)


def _order(event_id: str) -> tuple[int, int]:
    """A stream id's place in its stream: ids compare as the two numbers they are made of."""
    millis, _, sequence = event_id.partition("-")
    return int(millis), int(sequence or 0)


class TaskFeed:
    """The events of one task, read once for all its followers in this process."""

    def __init__(self, task_id: str, records: TaskRecords, hub: ResultHub) -> None:
        self._task_id = task_id
        self._records = records
        self._hub = hub
        self.followers = 0
        self._ready = asyncio.Event()
        #: Set whenever there is something new: events, the end or a failure. Replaced each time.
        self._published = asyncio.Event()
        self._changed = asyncio.Event()
        self._finished = False
        #: The id of the last event read, and the task as it was right after it.
        self._cursor = "0-0"
        self._view: TaskView | None = None
        #: The feed's last events, and the id (and place) of the last one it no longer keeps, or of where
        #: it began: it holds every event after that.
        self._window: deque[tuple[tuple[int, int], SentEvent]] = deque()
        self._base = (0, 0)
        self.base = "0-0"
        self._snapshot: SentEvent | None = None
        self.final: SentEvent | None = None
        self.error: ServiceUnavailableError | None = None
        # In a context of its own: it serves every follower, so it belongs to none of their requests.
        self._reading = asyncio.create_task(self._run(), context=contextvars.Context())

    def close(self) -> None:
        self._reading.cancel()

    async def ready(self) -> TaskView | None:
        """Once the feed has read where the task is: the task, or None when it does not exist."""
        await self._ready.wait()
        if self.error is not None:
            raise self.error
        return self._view

    @property
    def view(self) -> TaskView | None:
        return self._view

    def snapshot(self) -> SentEvent:
        """The task as of the last event read (its final state once the feed has ended)."""
        if self.final is not None:
            return SentEvent.of(FINAL_EVENT_ID, TaskEventType.SNAPSHOT, self.final.event.task)
        if self._snapshot is None or self._snapshot.event.id != self._cursor:
            assert self._view is not None  # ready() said the task exists
            self._snapshot = SentEvent.of(self._cursor, TaskEventType.SNAPSHOT, self._view)
        return self._snapshot

    def after(self, cursor: str) -> list[SentEvent] | None:
        """The events after `cursor` the feed has read; None when it no longer keeps them all."""
        place = _order(cursor)
        if place < self._base:
            return None
        return [sent for at, sent in self._window if at > place]

    def published(self) -> asyncio.Event:
        """Set the next time the feed has something new."""
        return self._published

    async def _run(self) -> None:
        try:
            with self._hub.listen(self._task_id, self._on_change):
                await self._start()
                finished = self._view is None or self._view.status.terminal
                if not finished:  # a finished task's followers wait for its final state
                    self._ready.set()
                while self._view is not None:
                    await self._read()
                    if finished:
                        final = await self._records.view(self._task_id) or self._view
                        self.final = SentEvent.of(FINAL_EVENT_ID, TaskEventType.STATE, final)
                        break
                    await self._changed.wait()
                    self._changed.clear()
                    finished = self._finished
        except ServiceUnavailableError as exc:
            self.error = exc
        self._ready.set()
        self._publish()

    async def _start(self) -> None:
        self._cursor = await self._records.last_event_id(self._task_id)
        self.base, self._base = self._cursor, _order(self._cursor)
        self._view = await self._records.view(self._task_id)

    async def _read(self) -> None:
        logged = await self._records.events_after(self._task_id, self._cursor)
        if not logged:
            return
        view = self._view
        assert view is not None
        for entry in logged:
            view = entry.applied_to(view)
            self._window.append((_order(entry.id), SentEvent.of(entry.id, entry.type, view)))
        self._view, self._cursor = view, logged[-1].id
        while len(self._window) > WINDOW:
            self._base, dropped = self._window.popleft()
            self.base = dropped.event.id
        self._publish()

    def _publish(self) -> None:
        published, self._published = self._published, asyncio.Event()
        published.set()

    def _on_change(self, meta: ResultMeta) -> None:
        self._finished = self._finished or meta.finished
        self._changed.set()


class TaskFeeds:
    """The feeds of the tasks followed in this process, one per task while it has a follower."""

    def __init__(self, records: TaskRecords, hub: ResultHub) -> None:
        self.records = records
        self._hub = hub
        self._feeds: dict[str, TaskFeed] = {}

    @contextlib.contextmanager
    def feed(self, task_id: str) -> Iterator[TaskFeed]:
        feed = self._feeds.get(task_id)
        if feed is None or feed.error is not None:
            feed = self._feeds[task_id] = TaskFeed(task_id, self.records, self._hub)
        feed.followers += 1
        try:
            yield feed
        finally:
            feed.followers -= 1
            if not feed.followers:
                feed.close()
                if self._feeds.get(task_id) is feed:
                    del self._feeds[task_id]


async def task_events(task_id: str, feeds: TaskFeeds, last_event_id: str | None) -> AsyncIterator[SentEvent]:
    if last_event_id == FINAL_EVENT_ID:
        return
    with feeds.feed(task_id) as feed:
        view = await feed.ready()
        if view is None:
            return
        cursor = last_event_id
        if cursor is None:
            snapshot = feed.snapshot()
            yield snapshot
            cursor = snapshot.event.id
            if cursor == FINAL_EVENT_ID:
                return
        while True:
            published = feed.published()
            shared = feed.after(cursor)
            if shared is None:  # behind the feed's window: read what it no longer keeps
                missed = await feeds.records.events_after(task_id, cursor)
                for entry in missed:
                    view = entry.applied_to(view)
                    cursor = entry.id
                    yield SentEvent.of(cursor, entry.type, view)
                if not missed:  # the log holds nothing up to the feed's first event: take them from there
                    cursor = feed.base
                continue
            for sent in shared:
                cursor = sent.event.id
                yield sent
            if shared:
                continue
            if feed.error is not None:
                raise feed.error
            if feed.final is not None:
                yield feed.final
                return
            await published.wait()
