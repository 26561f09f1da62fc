"""Live followers: thousands of clients streaming the progress of hundreds of running tasks at once.

TASKS `process` jobs of JOB_SECONDS run at once, each reporting progress every half second (the
handler's own cadence). Once every one has started, FOLLOWERS_PER_TASK clients per task open its event
stream, each on a connection of its own, and read it to its end. Each follower must then hold every
event the task logged after its snapshot, in the log's order, none twice: the task's event log in Redis
is read afterwards and compared, id by id. The lag of an event is the time from Redis logging the
worker's report (the millisecond its stream id carries) to the follower reading it.
"""

import time
from collections import Counter
from dataclasses import asdict

from redis import Redis

from bench import client, sse
from bench.services import peak_rss
from bench.sse import Followed
from bench.stats import Latency
from bench.targets import Scenario, at_most, equal, reported
from taskgate_api.engine.following import FINAL_EVENT_ID
from taskgate_contracts.storage import RecordField, events_key, record_key
from testkit.processes import Service

TASKS = 500
FOLLOWERS_PER_TASK = 10
#: Long enough that every follower is streaming well before the tasks end: about 60 reports each.
JOB_SECONDS = 30
LAG_P99_MS = 250
RSS_LIMIT_MB = 400
#: How long the worker may take to start every task.
_START_TIMEOUT = 60.0
_MB = 1024 * 1024


def measure(api: Service, redis: Redis) -> Scenario:
    task_ids = _submit(api)
    _wait_started(redis, task_ids)
    with peak_rss(api) as peak:
        idle = peak[0]
        followers = client.drive(
            sse.follow(api.url, [task for task in task_ids for _ in range(FOLLOWERS_PER_TASK)])
        )
    logged = {task_id: _logged_ids(redis, task_id) for task_id in task_ids}
    # A follower the api answered only once its task had ended got the final state as its snapshot: it
    # followed nothing, so it is counted on its own, not as one that lost events.
    late = [follower for follower in followers if _answered_after_the_end(follower)]
    wrong = [
        follower
        for follower in followers
        if not _answered_after_the_end(follower) and not _complete(follower, logged[follower.task_id])
    ]
    lags = [
        event.at - logged_at
        for follower in followers
        for event in follower.events
        if event.type != "snapshot" and (logged_at := sse.stream_time(event.id)) is not None
    ]
    lag = Latency.of_seconds(lags or [float("inf")])
    name = (
        f"SSE fan-out: {len(followers)} clients following {TASKS} running tasks "
        f"({FOLLOWERS_PER_TASK} each), progress every 0.5 s"
    )
    scenario = Scenario(name)
    scenario.add(
        equal("followers missing, repeating or reordering an event", len(wrong), 0, ""),
        equal("followers first answered after their task had ended", len(late), 0, ""),
        at_most("lag, worker's report to the client, p99", lag.p99, LAG_P99_MS, "ms"),
        reported("lag p50", lag.p50, "ms"),
        reported("events received", len(lags), ""),
        at_most("api peak RSS, all processes", peak[0] / _MB, RSS_LIMIT_MB, "MB"),
        reported("api RSS growth per follower", (peak[0] - idle) / len(followers) / 1024, "KB"),
    )
    scenario.raw = {
        "lag_ms": asdict(lag),
        "statuses": dict(Counter(str(follower.status) for follower in followers)),
        "wrong": [_describe(follower, logged[follower.task_id]) for follower in wrong[:10]],
        "api_idle_rss_mb": idle / _MB,
        "api_peak_rss_mb": peak[0] / _MB,
    }
    # Every event the api sent counts as an answer: it is what the api spends its CPU on here.
    scenario.answers = sum(len(follower.events) for follower in followers)
    scenario.tasks = TASKS
    return scenario


def _submit(api: Service) -> list[str]:
    request = client.post_request(api.url, "/submit/process", {"delay": JOB_SECONDS})
    answers = client.drive(client.burst(api.url, request, TASKS))
    refused = [answer for answer in answers if answer.status != 202]
    if refused:
        raise RuntimeError(
            f"{len(refused)} submissions refused, the first: {refused[0].status} {refused[0].body}"
        )
    return [str(answer.body["task_id"]) for answer in answers]


def _wait_started(redis: Redis, task_ids: list[str]) -> None:
    """Until the worker has noted the start of every task: its followers are to see them running."""
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        with redis.pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.hexists(record_key(task_id), RecordField.STARTED_AT)
            started = sum(map(bool, pipe.execute()))
        if started == len(task_ids):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {started} of {len(task_ids)} tasks started within {_START_TIMEOUT:g} s")
        time.sleep(0.2)


def _logged_ids(redis: Redis, task_id: str) -> list[str]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis.xrange(events_key(task_id))  # type: ignore[assignment]
    return [entry_id.decode() for entry_id, _ in entries]


def _answered_after_the_end(follower: Followed) -> bool:
    return [(event.type, event.id) for event in follower.events] == [("snapshot", FINAL_EVENT_ID)]


def _expected(follower: Followed, logged: list[str]) -> list[str] | None:
    """The ids the follower should have had after its snapshot; None without a snapshot first."""
    if not follower.events or follower.events[0].type != "snapshot":
        return None
    after = follower.events[0].id
    return logged[logged.index(after) + 1 :] if after in logged else None


def _complete(follower: Followed, logged: list[str]) -> bool:
    """Every event logged after the follower's snapshot, in order, once each, then the final state."""
    expected = _expected(follower, logged)
    received = [event.id for event in follower.events[1:]]
    return (
        not follower.error
        and follower.status == 200
        and expected is not None
        and received == [*expected, FINAL_EVENT_ID]
    )


def _describe(follower: Followed, logged: list[str]) -> dict[str, object]:
    return {
        "task_id": follower.task_id,
        "status": follower.status,
        "error": follower.error,
        "received": [event.id for event in follower.events],
        "logged": logged,
    }
