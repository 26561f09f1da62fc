"""Sleep jobs of one second at WORKER_CONCURRENCY 1, 4 and 16: does every worker process stay busy?

The worker keeps Celery's prefork pool. A thread or gevent pool would carry more sleeping jobs per MB,
but only prefork enforces the soft and hard time limits the foundation issue requires (a thread cannot
be interrupted), so prefork it is; a process per concurrent job is the price.
"""

from pathlib import Path

from bench import client
from bench.client import Answer
from bench.cpu import CpuMeter
from bench.services import rss_bytes, start_worker
from bench.targets import Scenario, at_least, equal, reported
from testkit.processes import Service, wait_ready

CONCURRENCIES = (1, 4, 16)
JOB_SECONDS = 1
RUN_SECONDS = 10
#: Two clients per worker process: while one waits for its answer, the other's job is already queued,
#: so a process never waits for the next request to arrive.
_CLIENTS_PER_PROCESS = 2
_MB = 1024 * 1024


def measure(api: Service, env: dict[str, str], logs: Path, concurrency: int) -> Scenario:
    """Start a worker of `concurrency` processes, load it through the api, and stop it."""
    worker = start_worker(env, logs, concurrency)
    try:
        wait_ready(api, worker)
        request = client.post_request(api.url, "/process", {"delay": JOB_SECONDS})
        clients = _CLIENTS_PER_PROCESS * concurrency
        with CpuMeter(api, [worker]) as meter:
            answers = client.drive(client.closed_loop(api.url, request, clients, RUN_SECONDS))
        worker_rss = rss_bytes(worker)
    finally:
        worker.stop()
    rate = jobs_per_second(answers, concurrency)
    not_completed = sum(1 for answer in answers if answer.body.get("status") != "completed")
    scenario = Scenario(f"sleep jobs of {JOB_SECONDS} s, WORKER_CONCURRENCY {concurrency}")
    scenario.add(
        at_least("jobs/s", rate, 0.9 * concurrency / JOB_SECONDS, "jobs/s", "90 % of concurrency"),
        equal("answers not `completed`", not_completed, 0, ""),
        reported("worker RSS, all processes", worker_rss / _MB, "MB"),
        *meter.figures(len(answers), len(answers)),
    )
    scenario.raw = {
        "concurrency": concurrency,
        "jobs": len(answers),
        "jobs_per_second": rate,
        "worker_rss_mb": worker_rss / _MB,
    }
    return scenario


def jobs_per_second(answers: list[Answer], concurrency: int) -> float:
    """The steady rate: jobs finished after the first round, over the time from that round's end.

    Counting jobs in a fixed window would be off by up to a whole round (`concurrency` jobs a second)
    depending on where the window's edges fall; measuring from the end of the first round to the last
    answer covers whole rounds only.
    """
    finished = sorted(answer.answered_at for answer in answers)
    if len(finished) <= concurrency:
        return 0.0
    return (len(finished) - concurrency) / (finished[-1] - finished[concurrency - 1])
