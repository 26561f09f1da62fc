"""How long a page of the task history takes with few tasks and with many: the cost per page must not
grow with the number of tasks (`taskgate_api.engine.history`).

A Redis of its own (nothing on disk) is filled through the api's own record writer — the CREATE script,
in batches as the api writes them — with N tasks, half of them marked completed; then pages are read
through the api's TaskHistory: the first page, a page deep in the history (by its cursor) and a page
filtered by status, each many times, and their median and 95th percentile are printed in milliseconds.

    python -m bench.history_pages --tasks 10 --tasks 100000
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from redis.asyncio import Redis

from taskgate_api.engine.history import HistoryQuery, TaskHistory
from taskgate_api.engine.records import TaskRecords
from taskgate_contracts import TaskState
from taskgate_contracts.storage import result_key
from taskgate_contracts.storage.scripts import NewTask, Retention
from testkit.servers import OwnRedis

#: A page of the size a person reads; 10 tasks fill one exactly.
PAGE = 10
READS = 200
#: Tasks recorded per script call while filling: the api's own batches are of this order under a burst.
BATCH = 500


async def fill(records: TaskRecords, redis: Redis, count: int) -> None:
    for start in range(0, count, BATCH):
        tasks = [NewTask(str(uuid4()), "process", "bench") for _ in range(min(BATCH, count - start))]
        await asyncio.gather(*(records.create(task) for task in tasks))
        async with redis.pipeline(transaction=False) as pipe:
            for task in tasks[::2]:
                pipe.set(result_key(task.task_id), json.dumps({"status": "SUCCESS", "result": None}), ex=3600)
            await pipe.execute()


async def timed(history: TaskHistory, query: HistoryQuery) -> list[float]:
    took = []
    for _ in range(READS):
        started = time.perf_counter()
        page = await history.page(query)
        took.append((time.perf_counter() - started) * 1000)
        assert page.tasks, "an empty page measures nothing"
    return took


def summary(took: list[float]) -> str:
    return f"median {statistics.median(took):.2f} ms, p95 {statistics.quantiles(took, n=20)[18]:.2f} ms"


async def measure(url: str, count: int) -> dict[str, str]:
    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
        records = TaskRecords(redis, url, Retention(expires=3600, history=7200, tombstone=25200))
        history = TaskHistory(redis, url, records)
        await fill(records, redis, count)
        # The cursor of the page 50 pages down, or of the last page when there are fewer.
        cursor, depth = None, 0
        while depth < 50:
            page = await history.page(HistoryQuery(limit=PAGE, key_name="bench", cursor=cursor))
            if page.next_cursor is None:
                break
            cursor, depth = page.next_cursor, depth + 1
        return {
            "first page": summary(await timed(history, HistoryQuery(limit=PAGE))),
            "a client key's first page": summary(
                await timed(history, HistoryQuery(limit=PAGE, key_name="bench"))
            ),
            f"the page {depth} pages down": summary(
                await timed(history, HistoryQuery(limit=PAGE, key_name="bench", cursor=cursor))
            ),
            "status=completed": summary(
                await timed(history, HistoryQuery(limit=PAGE, status=TaskState.COMPLETED))
            ),
        }
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, action="append", required=True, help="tasks in the history")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, OwnRedis(Path(folder), durable=False) as redis:
        for count in args.tasks:
            for what, figures in asyncio.run(measure(redis.url, count)).items():
                print(f"{count:>7} tasks, {what}: {figures} ({PAGE} a page, {READS} reads)")


if __name__ == "__main__":
    main()
