"""A job that outlives the worker's time limit fails, and the client is told why, without a traceback."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from taskgate_contracts import TIME_LIMIT_EXCEEDED, FailedResponse, TaskState
from testkit.infrastructure import TaskKeys, temporary_vhost
from testkit.processes import Service, running, settings_env, start_api, start_worker, wait_ready
from tests.client import connect, task_view
from tests.settings import PATIENT_TIMEOUT

TIME_LIMIT = 1


@pytest.fixture(scope="module")
def short_limit_api(
    request: pytest.FixtureRequest, task_keys: TaskKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """An api in front of its own worker whose TASK_TIME_LIMIT is TIME_LIMIT seconds."""
    with temporary_vhost() as vhost:
        worker_env = settings_env(vhost, task_timeout=PATIENT_TIMEOUT, task_time_limit=TIME_LIMIT)
        api_env = settings_env(vhost, task_timeout=PATIENT_TIMEOUT)
        worker_dir, api_dir = (
            tmp_path_factory.mktemp("short-limit-worker"),
            tmp_path_factory.mktemp("short-limit-api"),
        )
        with (
            running(request.config, start_worker(worker_env, worker_dir)) as worker,
            running(request.config, start_api("short-limit-api", api_env, api_dir)) as api,
        ):
            wait_ready(api, worker)
            yield api


@pytest.fixture
async def short_limit_client(
    short_limit_api: Service, task_keys: TaskKeys
) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(short_limit_api.url, task_keys) as http:
        yield http


async def test_a_job_over_the_time_limit_fails_with_the_reason(short_limit_client: httpx.AsyncClient) -> None:
    response = await short_limit_client.post("/process", json={"delay": TIME_LIMIT + 2})

    assert response.status_code == httpx.codes.INTERNAL_SERVER_ERROR, response.text
    assert set(response.json()) == {"status", "error", "time", "task_id"}
    body = FailedResponse.model_validate_json(response.content)
    assert body.error == TIME_LIMIT_EXCEEDED
    # Stopped at the limit, well before the job's own end.
    assert TIME_LIMIT <= body.time < TIME_LIMIT + 1.5

    view = await task_view(short_limit_client, body.task_id)
    assert view.status is TaskState.FAILED
    assert view.error == TIME_LIMIT_EXCEEDED
    assert view.result is None
