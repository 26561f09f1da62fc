"""`taskgate-ops up`: the whole stack as local processes against this machine's RabbitMQ and Redis."""

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from taskgate_contracts.observability import LogFormat
from taskgate_ops.config import OpsSettings
from taskgate_ops.doctor import CHECKS, Status
from taskgate_ops.processgroup import ProcessSpec

#: What must answer before the bootstrap; without them every process would only retry and log.
BEFORE_BOOTSTRAP = ("RabbitMQ management", "Redis")
#: AMQP is checked once the bootstrap has made the vhost it connects to.
AFTER_BOOTSTRAP = ("RabbitMQ (AMQP)",)


class LaunchError(Exception):
    """The stack cannot start; the message names what is missing."""


def require(settings: OpsSettings, names: tuple[str, ...]) -> None:
    for check in CHECKS:
        if check.name in names:
            result = check.run(settings)
            if result.status is not Status.OK:
                raise LaunchError(f"{check.name} is unreachable: {result.detail}. To fix: {result.remedy}")


def executable(name: str) -> str:
    """A console script of this environment (even when it is not activated), else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise LaunchError(f"{name} is not installed in this environment: pip install {name}")
    return found


def workers(
    concurrency: int | None, queues: Sequence[str] | None, env: Mapping[str, str], log_level: str = "info"
) -> list[ProcessSpec]:
    """One worker hosting every task type, or, given `queues`, one worker per queue named after it;
    `concurrency` is each worker's."""
    argv = [executable("taskgate-worker"), "--log-level", log_level]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    if queues is None:
        return [ProcessSpec("worker", argv, env)]
    return [ProcessSpec(f"worker[{queue}]", [*argv, "--queues", queue], env) for queue in queues]


def stack(
    api_port: int,
    flower_port: int,
    concurrency: int | None,
    insecure_dev: bool,
    worker_queues: Sequence[str] | None,
    log_format: LogFormat = "text",
    log_level: str = "info",
) -> list[ProcessSpec]:
    """The processes of `up`: the workers (see `workers`), the api and Flower, all logging at `log_level`
    in `log_format`."""
    # Unbuffered, so each line shows up in the merged log when it is written, not when a buffer fills.
    # The children write to a pipe, not a terminal: they log as `up`'s own output is read, unless
    # LOG_FORMAT says otherwise.
    env = {"LOG_FORMAT": log_format, **os.environ, "PYTHONUNBUFFERED": "1"}
    # A native stack serves this machine only, as a developer's laptop should.
    api = [
        executable("taskgate-api"),
        "--host",
        "127.0.0.1",
        "--port",
        str(api_port),
        "--log-level",
        log_level,
    ]
    flower = [executable("taskgate-ops"), "flower", "--address", "127.0.0.1", "--port", str(flower_port)]
    flower += ["--log-level", log_level]
    if insecure_dev:
        flower.append("--insecure-dev")
    return [
        *workers(concurrency, worker_queues, env, log_level),
        ProcessSpec("api", api, env),
        ProcessSpec("flower", flower, env),
    ]
