"""Fault 4: the Redis master dies (`kill -9`) mid-burst, and Sentinel promotes its replica.

The api and the worker find Redis only through the test's three sentinels. Clients wait for jobs both
ways — `POST /run/process`, and `POST /submit/process` followed by `GET /tasks/{id}?wait=` — and none
waits past its timeout + 1 s: it gets its outcome, `pending`, or (sent before the promotion) `503` naming
Redis. The api's result subscription moves to the new master and catches up on what was published while
it moved; every accepted job is completed, and `GET /tasks/{id}` shows it so afterwards.

Redis replicates asynchronously: a write the master acknowledged but had not yet sent to its replica when
it died is gone after the promotion. Two writers beside the load measure that window — one acknowledging
each write as Redis does, one waiting for the replica (`WAIT 1`) first — and the ledger says how many of
each the new master lacks, and how many of the jobs' records and results.
"""

import asyncio
import threading
import time
from dataclasses import dataclass, field

import httpx
from redis import Redis
from redis.exceptions import RedisError
from redis.sentinel import MasterNotFoundError, Sentinel

from taskgate_contracts import TaskState, TaskView
from taskgate_contracts.storage import record_key, result_key
from taskgate_ops.config import OpsSettings
from taskgate_ops.doctor import probe_redis
from testkit.infrastructure import HOST
from testkit.servers import OwnSentinels
from tests.chaos.conftest import Stack
from tests.chaos.faults import note_fault
from tests.chaos.ledger import Answer, Ledger, wait_until_settled
from tests.chaos.load import Load

TASK_TIMEOUT = 4
#: Jobs of each kind of client (run, submit-then-wait), sent at RATE a second each.
JOBS = 60
RATE = 5.0
DELAY = 0.2
KILL_AT = 4.0
#: The writers that measure replication start this long before the kill.
PROBE_LEAD = 0.5
PROMOTED_WITHIN = 15.0
SETTLE = 60.0
_ASYNC_KEY = "taskgate-probe:acknowledged"
_WAIT_KEY = "taskgate-probe:replicated"


@dataclass
class Writer:
    """INCRs one key on the master as fast as it answers, until it dies; with `wait`, each INCR counts only
    once `WAIT 1` says the replica has it."""

    port: int
    key: str
    wait: bool
    acknowledged: int = 0
    #: Seconds from the first write to the last acknowledged one.
    seconds: float = 0.0
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        client = Redis(host=HOST, port=self.port, socket_timeout=5)
        began = time.monotonic()
        try:
            while True:
                value = int(client.incr(self.key))
                if not self.wait or int(client.wait(1, 1000)) >= 1:
                    self.acknowledged = value
                    self.seconds = time.monotonic() - began
        except (RedisError, OSError):
            pass  # the master is gone
        finally:
            client.close()

    def lost_on(self, master: Redis) -> int:
        self.thread.join(timeout=10)
        return max(0, self.acknowledged - int(master.get(self.key) or 0))

    def describe(self, master: Redis) -> str:
        rate = self.acknowledged / self.seconds if self.seconds else 0.0
        lost = self.lost_on(master)
        return f"{self.acknowledged} acknowledged ({rate:.0f}/s), {lost} missing after the promotion"


async def _submit_and_wait(load: Load, waits: list[Answer]) -> None:
    """Submit a job; once accepted, wait for it with `GET ?wait=`, keeping how that wait went."""
    submitted = await load.request("/submit/process", {"delay": DELAY})
    if submitted.task_id is None:
        return
    sent = time.monotonic()
    try:
        response = await load.client.get(f"/tasks/{submitted.task_id}", params={"wait": TASK_TIMEOUT})
    except httpx.TransportError as exc:
        waits.append(
            Answer(sent - load.started, time.monotonic() - sent, None, submitted.task_id, detail=repr(exc))
        )
        return
    waits.append(
        Answer(sent - load.started, time.monotonic() - sent, response.status_code, submitted.task_id)
    )


async def _submitters(load: Load, waits: list[Answer]) -> None:
    began = time.monotonic()
    async with asyncio.TaskGroup() as clients:
        for index in range(JOBS):
            await asyncio.sleep(max(0.0, began + index / RATE - time.monotonic()))
            clients.create_task(_submit_and_wait(load, waits))


def _promotion(sentinel: Sentinel, name: str, new_master: tuple[str, int], within: float) -> float:
    """Seconds until the sentinels name `new_master` as the master."""
    began = time.monotonic()
    while _master(sentinel, name) != new_master:
        assert time.monotonic() - began < within, "the sentinels did not promote the replica"
        time.sleep(0.02)
    return time.monotonic() - began


def _master(sentinel: Sentinel, name: str) -> tuple[str, int] | None:
    try:
        host, port = sentinel.discover_master(name)
    except MasterNotFoundError:  # the sentinels agree it is down, and have promoted nobody yet
        return None
    return host, port


async def test_sentinel_failover(sentinel_stack: Stack, ledger: Ledger, own_sentinels: OwnSentinels) -> None:
    name = own_sentinels.master_name
    old_master = Redis(host=HOST, port=own_sentinels.master.port, socket_timeout=5)
    sentinel = Sentinel([(HOST, port) for port in own_sentinels.sentinel_ports], socket_timeout=1.0)
    sentinel_stack.worker("worker", concurrency=4)
    api = sentinel_stack.api(task_timeout=TASK_TIMEOUT)
    load = Load(api.url, timeout=TASK_TIMEOUT + 10)
    waits: list[Answer] = []
    writers = [
        Writer(own_sentinels.master.port, _ASYNC_KEY, wait=False),
        Writer(own_sentinels.master.port, _WAIT_KEY, wait=True),
    ]
    promoted: list[float] = []
    killed: list[float] = []

    async def kill_master() -> None:
        await asyncio.sleep(KILL_AT - PROBE_LEAD)
        for writer in writers:
            writer.thread.start()
        await asyncio.sleep(PROBE_LEAD)
        note_fault(ledger, "kill -9 of the Redis master", load.elapsed(), old_master)
        own_sentinels.master.kill()
        killed.append(load.elapsed())
        replica = (HOST, own_sentinels.replica.port)
        promoted.append(await asyncio.to_thread(_promotion, sentinel, name, replica, PROMOTED_WITHIN))

    try:
        async with asyncio.TaskGroup() as chaos:
            chaos.create_task(load.burst(JOBS, RATE, "/run/process", {"delay": DELAY}))
            chaos.create_task(_submitters(load, waits))
            chaos.create_task(kill_master())
        master = sentinel.master_for(name, socket_timeout=5)
        ledger.answers = load.answers
        ledger.runs = wait_until_settled(master, ledger.accepted, within=SETTLE)
        views = [await load.client.get(f"/tasks/{task_id}") for task_id in sorted(ledger.accepted)]
        subscriptions = int(master.execute_command("PUBSUB", "NUMPAT"))
        doctor = probe_redis(OpsSettings.model_validate(own_sentinels.settings))
        # What the clients were told had finished, and whose record or result the new master lacks.
        finished = [a.task_id for a in ledger.answers if a.status == 200 and a.task_id]
        missing_results = sum(not master.exists(result_key(task_id)) for task_id in finished)
        missing_records = sum(not master.exists(record_key(task_id)) for task_id in ledger.accepted)
        probes = [writer.describe(master) for writer in writers]
        lost_replicated = writers[1].lost_on(master)
    finally:
        await load.aclose()
        old_master.close()

    ((kill_at,), (promotion,)) = killed, promoted
    after_kill = [a.sent_at + a.seconds for a in ledger.answers if a.task_id and a.sent_at >= kill_at]
    back = min(after_kill) - kill_at
    ledger.notes += [
        f"the sentinels promoted the replica {promotion:.2f} s after the kill; "
        f"the api accepted a request sent after the kill {back:.2f} s after it",
        f"GET ?wait= answers: {sorted({a.status for a in waits}, key=str)}; "
        f"the slowest took {max(a.seconds for a in waits):.2f} s",
        f"writes to the master, acknowledged as Redis does: {probes[0]}",
        f"writes to the master, acknowledged after WAIT 1: {probes[1]}",
        f"jobs: {missing_results} of {len(finished)} results the clients got and {missing_records} of "
        f"{len(ledger.accepted)} records missing on the new master",
    ]

    slowest = max([*ledger.answers, *waits], key=lambda a: a.seconds)
    assert slowest.seconds <= TASK_TIMEOUT + 1, slowest
    assert {a.status for a in [*ledger.answers, *waits]} <= {200, 202, 503}, [*ledger.answers, *waits]
    assert all("Redis" in a.detail for a in ledger.refused), ledger.refused
    assert ledger.accepted, "no request was accepted"
    assert back <= PROMOTED_WITHIN
    # The api's subscription moved to the new master (one api process, one pattern).
    assert subscriptions >= 1
    assert f"{HOST}:{own_sentinels.replica.port}" in doctor
    assert [
        TaskView.model_validate_json(view.content).status
        for view in views
        if view.status_code == httpx.codes.OK
    ] == [TaskState.COMPLETED] * len(ledger.accepted), [view.text for view in views]
    assert lost_replicated == 0
    assert ledger.problems() == []
