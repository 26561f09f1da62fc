"""Keeping score the way Jepsen's queue checker does: for every job a client sent, where did it end?

A client's request is *accepted* when it got a task id back (200 or 202: the api had RabbitMQ's publisher
confirm), *refused* when it got 503, and *indeterminate* when it got no answer from the api: none at all,
or a balancer's 502 saying the api it was sent to failed. What ran is read from
Redis, where the worker logs a `running` event each time it starts a task and Celery stores its final
state. Then, as in Jepsen's `total-queue` checker:

- lost: accepted, but never completed;
- duplicated: started more than once (allowed only for jobs in flight at a fault);
- recovered: ran although the client learned nothing of it (its request was indeterminate);
- unexpected: ran although no request can account for it (for example, it was refused with 503).
"""

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from redis import Redis

from taskgate_contracts import TaskEventType, TaskState
from taskgate_contracts.storage import EventField, events_key, result_key

#: A balancer's answer when the api it sent the request to failed (HAProxy's, when the api died).
BAD_GATEWAY = 502
#: What the Redis result backend stores as a task's final state.
_FINAL_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})
_EVENTS_PATTERN = events_key("*")
#: Stream entries as the Redis client returns them: (id, fields), all bytes.
_Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True)
class Answer:
    """What one client request got back."""

    #: Seconds from the start of the load to the moment the request was sent.
    sent_at: float
    #: Seconds the client waited for the answer.
    seconds: float
    #: The HTTP status, or None when no answer came (the connection failed or timed out).
    status: int | None
    task_id: str | None = None
    retry_after: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Fault:
    label: str
    #: Seconds from the start of the load.
    at: float
    #: Tasks started and not finished right after the fault: the ones that may run twice.
    in_flight: frozenset[str]


@dataclass(frozen=True)
class Runs:
    """What Redis says ran: starts per task id, and the final Celery state of each finished task."""

    starts: dict[str, int]
    final: dict[str, str]

    @property
    def executed(self) -> set[str]:
        return set(self.starts) | set(self.final)

    @property
    def unfinished(self) -> set[str]:
        return {task_id for task_id in self.starts if task_id not in self.final}


def read_runs(redis: Redis) -> Runs:
    """Every task the Redis database (the test's own) knows of; at most a few thousand, in two pipelines."""
    task_ids = [key.decode().removeprefix(events_key("")) for key in redis.scan_iter(_EVENTS_PATTERN, 1000)]
    with redis.pipeline(transaction=False) as pipe:
        for task_id in task_ids:
            pipe.xrange(events_key(task_id))
            pipe.get(result_key(task_id))
        replies = pipe.execute()
    starts: dict[str, int] = {}
    final: dict[str, str] = {}
    for task_id, events, result in zip(task_ids, replies[::2], replies[1::2], strict=True):
        running = sum(1 for _, fields in events if _is_start(fields))
        if running:
            starts[task_id] = running
        state = _state(result)
        if state in _FINAL_STATES:
            final[task_id] = state
    return Runs(starts, final)


def _is_start(fields: dict[bytes, bytes]) -> bool:
    return (
        fields.get(EventField.TYPE.encode()) == TaskEventType.STATE.encode()
        and fields.get(EventField.STATUS.encode()) == TaskState.RUNNING.encode()
    )


def starts_of(redis: Redis, task_id: str) -> list[tuple[float, str]]:
    """Each start of the task: the wall clock it was logged at (an event's id is Redis's milliseconds),
    and the worker's node name."""
    return [
        (int(entry_id.split(b"-")[0]) / 1000, fields.get(EventField.WORKER.encode(), b"").decode())
        for entry_id, fields in cast(_Entries, redis.xrange(events_key(task_id)))
        if _is_start(fields)
    ]


def first_start_after(redis: Redis, clock: float, worker: str = "") -> float:
    """The wall clock of the first task start logged after `clock`, by any worker or by those whose node
    name starts with `worker`."""
    task_ids = [key.decode().removeprefix(events_key("")) for key in redis.scan_iter(_EVENTS_PATTERN, 1000)]
    starts = [
        at
        for task_id in task_ids
        for at, by in starts_of(redis, task_id)
        if at >= clock and by.startswith(worker)
    ]
    assert starts, f"no task started after that moment{f' on {worker}' if worker else ''}"
    return min(starts)


def _state(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    # Celery's JSON result meta: {"status": "SUCCESS", ...}; the status is all the score needs.
    status = json.loads(raw).get("status")
    return status if isinstance(status, str) else None


def wait_until_settled(redis: Redis, task_ids: Iterable[str], within: float) -> Runs:
    """Poll until each of `task_ids` has a final state and nothing else is unfinished, or time is up."""
    wanted = set(task_ids)
    deadline = time.monotonic() + within
    runs = read_runs(redis)
    while (wanted - set(runs.final) or runs.unfinished) and time.monotonic() < deadline:
        time.sleep(0.25)
        runs = read_runs(redis)
    return runs


@dataclass
class Ledger:
    """One scenario's score."""

    scenario: str
    answers: list[Answer] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    runs: Runs = field(default_factory=lambda: Runs({}, {}))
    #: Figures worth reading beside the counts (how fast a refusal came, how long a reconnect took).
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> set[str]:
        return {a.task_id for a in self.answers if a.status in (200, 202) and a.task_id}

    @property
    def refused(self) -> list[Answer]:
        return [a for a in self.answers if a.status == 503]

    @property
    def indeterminate(self) -> list[Answer]:
        return [a for a in self.answers if a.status in (None, BAD_GATEWAY)]

    @property
    def completed(self) -> set[str]:
        return {task_id for task_id, state in self.runs.final.items() if state == "SUCCESS"}

    @property
    def failed(self) -> set[str]:
        return {task_id for task_id, state in self.runs.final.items() if state != "SUCCESS"}

    @property
    def lost(self) -> set[str]:
        return self.accepted - self.completed

    @property
    def duplicated(self) -> set[str]:
        return {task_id for task_id, count in self.runs.starts.items() if count > 1}

    @property
    def in_flight_at_faults(self) -> set[str]:
        return set().union(*(fault.in_flight for fault in self.faults))

    @property
    def _unaccounted(self) -> list[str]:
        return sorted(self.runs.executed - self.accepted)

    @property
    def recovered(self) -> list[str]:
        return self._unaccounted[: len(self.indeterminate)]

    @property
    def unexpected(self) -> list[str]:
        return self._unaccounted[len(self.indeterminate) :]

    def problems(self) -> list[str]:
        """What breaks the promise that an accepted job is done, once, whatever crashed."""
        found = []
        if self.lost:
            found.append(f"{len(self.lost)} accepted job(s) lost: {sorted(self.lost)[:5]}")
        if self.failed:
            found.append(f"{len(self.failed)} job(s) failed: {sorted(self.failed)[:5]}")
        if self.unexpected:
            found.append(
                f"{len(self.unexpected)} job(s) ran that no request accounts for: {self.unexpected[:5]}"
            )
        excess = self.duplicated - self.in_flight_at_faults
        if excess:
            found.append(
                f"{len(excess)} job(s) ran twice without being in flight at a fault: {sorted(excess)[:5]}"
            )
        return found

    def row(self) -> list[str]:
        counts = [
            len(self.answers),
            len(self.accepted),
            len(self.refused),
            len(self.indeterminate),
            len(self.completed & self.accepted),
            len(self.failed),
            len(self.lost),
            len(self.duplicated),
            len(self.in_flight_at_faults),
            len(self.recovered),
            len(self.unexpected),
        ]
        return [self.scenario, *map(str, counts)]

    def lines(self) -> list[str]:
        """One line per fault, the answers the clients got (and why, when refused), then the notes."""
        faults = [
            f"{fault.label} at {fault.at:.1f} s, {len(fault.in_flight)} in flight" for fault in self.faults
        ]
        return [f"{self.scenario}: {line}" for line in [*faults, *self._answer_lines(), *self.notes]]

    def _answer_lines(self) -> list[str]:
        if not self.answers:
            return []
        statuses = Counter("no answer" if a.status is None else str(a.status) for a in self.answers)
        counts = ", ".join(f"{status} × {count}" for status, count in sorted(statuses.items()))
        slowest = max(a.seconds for a in self.answers)
        reasons = Counter(f"{a.status}: {a.detail[:120]}" for a in self.answers if a.status not in (200, 202))
        return [
            f"answers {counts}; the slowest took {slowest:.2f} s",
            *(f"{count} × {reason}" for reason, count in reasons.most_common()),
        ]


COLUMNS = [
    "scenario",
    "requests",
    "accepted",
    "refused 503",
    "no answer",
    "completed",
    "failed",
    "lost",
    "duplicated",
    "in flight at faults",
    "recovered",
    "unexpected",
]


def markdown(ledgers: Iterable[Ledger]) -> str:
    """The ledgers as one Markdown table, then their faults and notes."""
    ledgers = list(ledgers)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(ledger.row()) + " |" for ledger in ledgers]
    details = [line for ledger in ledgers for line in ledger.lines()]
    return "\n".join([*lines, "", *details])
