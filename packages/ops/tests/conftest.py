"""Fixtures of the ops tests: this machine's RabbitMQ management API and a vhost of each test's own."""

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest

from taskgate_ops.management import ManagementApi, ManagementError, segment

MANAGEMENT_URL = "http://127.0.0.1:15672"
ADMIN = ("guest", "guest")


@pytest.fixture
def management() -> Iterator[ManagementApi]:
    """The local broker's management API as its administrator; without one, skip (fail under CI)."""
    with ManagementApi(MANAGEMENT_URL, *ADMIN) as api:
        try:
            api.get("/overview")
        except ManagementError as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI needs RabbitMQ with its management API: {exc}")
            pytest.skip(str(exc))
        yield api


@pytest.fixture
def vhost(management: ManagementApi) -> Iterator[str]:
    """A vhost name no one else uses; deleted, with all it holds, after the test."""
    name = f"taskgate-ops-test-{uuid4().hex[:12]}"
    yield name
    if management.get(f"/vhosts/{segment(name)}") is not None:
        management.delete(f"/vhosts/{segment(name)}")
