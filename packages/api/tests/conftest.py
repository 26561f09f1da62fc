from collections.abc import AsyncIterator, Iterator

import fakeredis
import pytest
from fastapi.testclient import TestClient

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings

#: Nothing listens on port 1 of the loopback: connecting fails at once with "connection refused".
CLOSED = "127.0.0.1"


@pytest.fixture
def unreachable_settings() -> ApiSettings:
    """Settings whose RabbitMQ and Redis do not exist, for what the api must do without them."""
    return ApiSettings(
        rabbitmq_host=CLOSED,
        port_amqp=1,
        redis_url=f"redis://{CLOSED}:1/0",
        publish_timeout=0.5,
        _env_file=None,
    )


@pytest.fixture
def offline_client(unreachable_settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(create_app(unreachable_settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
async def redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    """An in-process Redis of the test's own."""
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    yield client
    await client.aclose()
