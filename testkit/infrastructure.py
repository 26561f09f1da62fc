"""This machine's RabbitMQ and Redis as the end-to-end tests use them: reachability, a vhost each, cleanup.

python -m testkit.infrastructure    # one line per missing service; exit 1 when any is missing
"""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import uuid4

import httpx
from redis import Redis
from redis.exceptions import RedisError

HOST = "127.0.0.1"
AMQP_PORT = 5672
MANAGEMENT_URL = f"http://{HOST}:15672"
RABBITMQ_USER = "guest"
RABBITMQ_PASSWORD = "guest"
REDIS_PORT = 6379
#: The Redis database the end-to-end tests write to; they delete only the keys of the tasks they made.
REDIS_DB = 12
REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/{REDIS_DB}"
_TIMEOUT = 3.0


def rabbitmq_problem() -> str | None:
    """Why RabbitMQ cannot serve the tests (AMQP or the management API), or None."""
    try:
        with socket.create_connection((HOST, AMQP_PORT), timeout=_TIMEOUT):
            pass
    except OSError as exc:
        return f"RabbitMQ is unreachable: nothing answers AMQP at {HOST}:{AMQP_PORT} ({exc})"
    try:
        response = httpx.get(
            f"{MANAGEMENT_URL}/api/overview", auth=(RABBITMQ_USER, RABBITMQ_PASSWORD), timeout=_TIMEOUT
        )
    except httpx.HTTPError as exc:
        return (
            f"RabbitMQ management API is unreachable at {MANAGEMENT_URL} ({exc}); "
            "enable it with `rabbitmq-plugins enable rabbitmq_management`"
        )
    if response.status_code != httpx.codes.OK:
        return f"RabbitMQ management API at {MANAGEMENT_URL} answered {response.status_code} to guest:guest"
    return None


def redis_problem() -> str | None:
    """Why Redis cannot serve the tests, or None."""
    client = Redis(host=HOST, port=REDIS_PORT, db=REDIS_DB, socket_connect_timeout=_TIMEOUT)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return f"Redis is unreachable at {HOST}:{REDIS_PORT} ({exc})"
    finally:
        client.close()
    return None


@contextmanager
def temporary_vhost() -> Iterator[str]:
    """A RabbitMQ vhost of its own, so a stack's queues meet no other stack's; deleted with all it holds."""
    name = f"taskgate-test-{uuid4().hex[:12]}"
    with httpx.Client(
        base_url=f"{MANAGEMENT_URL}/api", auth=(RABBITMQ_USER, RABBITMQ_PASSWORD), timeout=10.0
    ) as management:
        management.put(f"/vhosts/{name}").raise_for_status()
        try:
            management.put(
                f"/permissions/{name}/{RABBITMQ_USER}",
                json={"configure": ".*", "write": ".*", "read": ".*"},
            ).raise_for_status()
            yield name
        finally:
            management.delete(f"/vhosts/{name}").raise_for_status()


@dataclass
class TaskKeys:
    """The ids of the tasks the tests created, so teardown deletes their Redis keys and nothing else."""

    task_ids: set[str] = field(default_factory=set)

    def add(self, task_id: str) -> None:
        self.task_ids.add(task_id)

    def delete_all(self) -> None:
        # Every key that names one of our tasks (result, record, event log, whatever is added next).
        client = Redis.from_url(REDIS_URL, socket_connect_timeout=_TIMEOUT)
        try:
            for task_id in self.task_ids:
                keys = list(client.scan_iter(match=f"*{task_id}*"))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()
        self.task_ids.clear()


def main() -> int:
    problems = [problem for problem in (rabbitmq_problem(), redis_problem()) if problem is not None]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
