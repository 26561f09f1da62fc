"""Fault 4b: a graceful Redis failover (`SENTINEL FAILOVER`): the old master is demoted while it still runs.

Unlike a dead master, a demoted one goes on accepting writes until the sentinels reconfigure it, seconds
after they promoted its replica, and its demotion discards them. redis-py notices the demotion only at the
first refused write; so the api and the worker listen to the sentinels' `+switch-master` announcement and
drop their connections at once. Measured here on their own Redis clients: how soon after the announcement
the api's commands, its result subscription and the worker's result backend are on the new master, and
what a client that does not follow the announcement loses meanwhile.
"""

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from redis.sentinel import Sentinel

from taskgate_api.config import ApiSettings
from taskgate_api.engine.waiting import ResultHub
from taskgate_api.redis_clients import connect
from taskgate_worker.config import WorkerSettings
from taskgate_worker.factory import create_app
from testkit.infrastructure import HOST
from testkit.servers import OwnSentinels
from tests.chaos.ledger import Ledger

#: Seconds the sentinels may take to learn of the replica (they ask the master every 10 s).
KNOWN_WITHIN = 30.0
SWITCH_WITHIN = 15.0
#: How soon after the announcement the clients must be on the new master; the old one is demoted only
#: about ten seconds later, so a client that waited for that would fail this.
MOVED_WITHIN = 1.0
_KEY = "taskgate-probe:unfollowed"


def _until(condition: Callable[[], bool], within: float, what: str) -> float:
    """Seconds until `condition` holds, polled every 10 ms."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < within, f"not within {within:g} s: {what}"
        time.sleep(0.01)
    return time.monotonic() - began


def _knows_replica(sentinels: list[Redis], name: str) -> bool:
    return all(sentinel.sentinel_slaves(name) for sentinel in sentinels)


def _writes_until_refused(port: int, acknowledged: list[int]) -> None:
    """A client that does not follow the announcements: INCR on the old master until it refuses."""
    with Redis(host=HOST, port=port, socket_timeout=5) as client, contextlib.suppress(RedisError, OSError):
        while True:
            acknowledged.append(int(client.incr(_KEY)))
            time.sleep(0.001)


async def test_sentinel_switchover(own_sentinels: OwnSentinels, ledger: Ledger) -> None:
    name, new_port = own_sentinels.master_name, own_sentinels.replica.port
    sentinels = [Redis(host=HOST, port=port) for port in own_sentinels.sentinel_ports]
    await asyncio.to_thread(_until, lambda: _knows_replica(sentinels, name), KNOWN_WITHIN, "replica known")
    api = connect(ApiSettings.model_validate(own_sentinels.settings))
    hub = ResultHub(api.subscriber)
    # Hosting the process type alone, as the chaos workers do: the others' handlers may not be installed.
    worker_settings = WorkerSettings.model_validate({**own_sentinels.settings, "worker_tasks": "process"})
    worker = create_app(worker_settings).backend
    background = [asyncio.create_task(api.follow_failovers()), asyncio.create_task(hub.run())]
    acknowledged: list[int] = []
    unfollowed = threading.Thread(
        target=_writes_until_refused, args=(own_sentinels.master.port, acknowledged)
    )
    new_master = Redis(host=HOST, port=new_port)
    try:
        # Every client on the old master first: the api's commands and subscription, the worker's backend.
        await api.commands.ping()
        await asyncio.to_thread(worker.set, "taskgate-probe:worker", "1")
        while not hub.listening:
            await asyncio.sleep(0.01)
        unfollowed.start()
        await asyncio.sleep(0.5)  # writes the replica still receives
        sentinels[0].execute_command("SENTINEL", "FAILOVER", name)
        promoted = await asyncio.to_thread(
            _until, lambda: new_master.role()[0] == b"master", SWITCH_WITHIN, "the promotion"
        )
        discovery = Sentinel([(HOST, port) for port in own_sentinels.sentinel_ports])
        switched = await asyncio.to_thread(
            _until, lambda: discovery.discover_master(name) == (HOST, new_port), SWITCH_WITHIN, "the switch"
        )

        async def api_port() -> int | None:
            try:
                return int((await api.commands.info("server"))["tcp_port"])
            except RedisError:  # in flight as the announcement dropped its connection: as a request would
                return None

        began = time.monotonic()
        while await api_port() != new_port:
            assert time.monotonic() - began < MOVED_WITHIN, "the api's commands stayed on the old master"
            await asyncio.sleep(0.01)
        api_moved = time.monotonic() - began
        subscription_moved = await asyncio.to_thread(
            _until,
            lambda: int(new_master.execute_command("PUBSUB", "NUMPAT")) >= 1,
            MOVED_WITHIN,
            "subscription",
        )
        worker_moved = await asyncio.to_thread(
            _until, lambda: int(worker.client.info("server")["tcp_port"]) == new_port, MOVED_WITHIN, "worker"
        )
        unfollowed.join(timeout=60)
        demoted = time.monotonic() - began
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await api.aclose()
        for sentinel in sentinels:
            sentinel.close()
    lost = acknowledged[-1] - int(new_master.get(_KEY) or 0)
    new_master.close()
    ledger.notes += [
        f"SENTINEL FAILOVER: the replica was master {promoted:.2f} s after the command, and the sentinels "
        f"announced it {switched:.2f} s after that (writes to the old master in between are lost); "
        f"after it, the api's commands moved in {api_moved:.3f} s, its subscription in "
        f"{subscription_moved:.3f} s, the worker's backend in {worker_moved:.3f} s",
        f"a client that did not follow the announcement wrote to the old master for {demoted:.1f} s more "
        f"and lost {lost} of its {acknowledged[-1]} acknowledged writes",
    ]
