"""The task history: pages of task views, newest first, read from sorted sets in Redis.

The api adds every task it queues to sorted sets scored by when it was queued, in Redis's own clock
(`storage.scripts.CREATE`): one of every task, one per type, one per key and one per key and type. A
filter on type, key or both picks the set; `since`/`until` bound the score; so a page costs one range
read of `limit` entries and one pipelined read of their records, however many tasks there are.

The cursor is the score (and id) of the last entry a page looked at. No two entries share a score, so
the next page starts strictly below it: tasks queued after the first page have higher scores and never
shift the pages that follow, so paging neither repeats nor skips a task older than the first page.

The status filter has no set of its own: a task's status changes in the worker, through Celery's
backend, which taskgate does not hook. A page with a status filter reads the entries in order and keeps
those whose status matches, reading at most SCAN_BUDGET entries; if it runs out first, it answers what
it found (maybe nothing) with a cursor to go on from. Its cost is bounded by SCAN_BUDGET, not by the
number of tasks. Entries whose record has expired are skipped, and removed from the set as they are met;
each set also drops entries older than the history horizon as tasks are added to it.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from redis.asyncio import Redis

from taskgate_api.engine.errors import redis_errors
from taskgate_api.engine.records import TaskRecords
from taskgate_contracts import TaskState, TaskView
from taskgate_contracts.storage import index_key

#: Entries one page reads at most while looking for tasks of the status asked for.
SCAN_BUDGET = 1000


#: What a cursor looks like: the score, a dot, the task id. Clients pass it back as it came.
CURSOR_PATTERN = r"^[0-9]{1,19}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_CURSOR = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True, slots=True)
class Cursor:
    score: int
    task_id: str

    def encode(self) -> str:
        return f"{self.score}.{self.task_id}"

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """Raises ValueError when `text` is not of a cursor's form (CURSOR_PATTERN)."""
        if not _CURSOR.fullmatch(text):
            raise ValueError("not a cursor of this api")
        score, _, task_id = text.partition(".")
        return cls(int(score), task_id)


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    limit: int
    status: TaskState | None = None
    task: str | None = None
    #: Only the tasks of this key (a client's own); None: every key's.
    key_name: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    tasks: list[TaskView]
    next_cursor: Cursor | None


class TaskHistory:
    def __init__(self, redis: Redis, address: str, records: TaskRecords) -> None:
        self._redis = redis
        self._address = address
        self._records = records

    async def page(self, query: HistoryQuery) -> HistoryPage:
        key = index_key(query.task, query.key_name)
        until = math.inf if query.until is None else _micros(query.until)
        highest: float | str = until
        if query.cursor is not None and query.cursor.score <= until:
            # Strictly below the cursor: no two tasks share a score (CREATE gives each one above the last).
            highest = f"({query.cursor.score}"
        lowest: float = -math.inf if query.since is None else _micros(query.since)
        # Without a status filter every live entry is kept: one more than the page tells if more follow.
        # With one, twice the page at a time: fewer round trips when few match, little waste when many do.
        chunk = 2 * query.limit + 1 if query.status is not None else query.limit + 1
        kept: list[TaskView] = []
        expired: list[str] = []
        looked_at = offset = 0
        position: Cursor | None = None
        while True:
            with redis_errors(self._address):
                rows = cast(
                    list[tuple[bytes, float]],
                    await self._redis.zrevrangebyscore(
                        key, highest, lowest, start=offset, num=chunk, withscores=True
                    ),
                )
            offset += len(rows)
            entries = [Cursor(int(score), member.decode()) for member, score in rows]
            views = await self._records.views([entry.task_id for entry in entries])
            for entry, view in zip(entries, views, strict=True):
                looked_at += 1
                if view is None:
                    expired.append(entry.task_id)
                    continue
                if len(kept) == query.limit:  # a further task: there is a next page
                    return await self._answer(key, expired, kept, position)
                if query.status is None or view.status is query.status:
                    kept.append(view)
                position = entry
                if looked_at >= SCAN_BUDGET:
                    return await self._answer(key, expired, kept, position)
            if len(rows) < chunk:
                return await self._answer(key, expired, kept, None)

    async def _answer(
        self, key: str, expired: list[str], kept: list[TaskView], cursor: Cursor | None
    ) -> HistoryPage:
        if expired:
            with redis_errors(self._address):
                await self._redis.zrem(key, *expired)
        return HistoryPage(kept, cursor)


def _micros(moment: datetime) -> int:
    return math.floor(moment.timestamp() * 1_000_000)
