"""What the engine raises when it cannot do its work; the http layer turns each into an answer."""

import contextlib
from collections.abc import Iterator
from typing import Literal

from redis.exceptions import RedisError

from taskgate_contracts import TaskView

Service = Literal["rabbitmq", "redis"]
_DISPLAY_NAMES: dict[Service, str] = {"rabbitmq": "RabbitMQ", "redis": "Redis"}


class ServiceUnavailableError(Exception):
    """A service the api needs did not answer, or refused the work."""

    def __init__(self, service: Service, address: str, reason: object, *, refused: bool = False) -> None:
        self.service = service
        name = _DISPLAY_NAMES[service]
        self.detail = (
            f"{name} at {address}: {reason}" if refused else f"{name} is unreachable at {address}: {reason}"
        )
        super().__init__(self.detail)


class IdempotencyConflictError(Exception):
    """An Idempotency-Key already attached to a task with other arguments."""

    detail = "this Idempotency-Key was used with a different body"

    def __init__(self) -> None:
        super().__init__(self.detail)


class InFlightLimitError(Exception):
    """The key already has its limit of tasks queued or running; the task was not queued."""

    def __init__(self, key_name: str, limit: int) -> None:
        self.key_name = key_name
        self.limit = limit
        super().__init__(f"key {key_name!r} has {limit} tasks in flight")


class TaskGoneError(Exception):
    """The task existed, but its record has expired."""

    def __init__(self, task_id: str, expires: int) -> None:
        self.task_id = task_id
        self.detail = f"task {task_id} has expired: its record was kept for {expires} s (RESULT_EXPIRES)"
        super().__init__(self.detail)


class TaskFinishedError(Exception):
    """The task has already finished, so it cannot be cancelled; `view` is how it ended."""

    def __init__(self, task_id: str, view: TaskView) -> None:
        self.task_id = task_id
        self.view = view
        super().__init__(f"task {task_id} has already finished")


@contextlib.contextmanager
def redis_errors(address: str) -> Iterator[None]:
    """Turn a Redis failure into a ServiceUnavailableError naming Redis."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise ServiceUnavailableError("redis", address, exc) from exc
