"""The typed client and the `taskgate` command against the real api and worker on RabbitMQ and Redis."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from uuid import uuid4

import pytest

from taskgate_client import (
    AsyncTaskgateClient,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    TaskgateClient,
    TaskPendingError,
    TaskTypeNotFoundError,
    UnauthorizedError,
)
from taskgate_contracts import COMPLETED_MESSAGE, TaskEventType, TaskState, TaskView
from taskgate_contracts.builtin.process import PROCESS, ProcessArgs, ProcessResult
from testkit.infrastructure import TaskKeys
from testkit.processes import Service, answers, free_port, running, settings_env, start_api, wait_until
from tests.settings import IMPATIENT_TIMEOUT, MAX_DELAY, PATIENT_TIMEOUT

API_KEY = "live-test-key"
#: Cancels sent as the worker takes the task up; one round in a few lands in the race.
CANCEL_RACE_ROUNDS = 8
#: The console script installed beside this interpreter, as a user runs it.
TASKGATE = Path(sys.executable).with_name("taskgate")


@pytest.fixture
def patient(api: Service, task_keys: TaskKeys) -> Iterator[TaskgateClient]:
    with TaskgateClient(api.url, task_timeout=PATIENT_TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def keyed_api(
    request: pytest.FixtureRequest,
    main_vhost: str,
    tmp_path_factory: pytest.TempPathFactory,
    api: Service,
    task_keys: TaskKeys,
) -> Iterator[Service]:
    """An api that requires API_KEY, beside the main one (whose readiness says the worker is up)."""
    env = settings_env(main_vhost, task_timeout=PATIENT_TIMEOUT, max_delay=MAX_DELAY, api_keys=API_KEY)
    with running(
        request.config, start_api("keyed-api", env, tmp_path_factory.mktemp("keyed-api"))
    ) as service:
        wait_until("keyed-api to serve /healthz", answers(f"{service.url}/healthz", 200), [service])
        yield service


def taskgate(url: str, *args: str, api_key: str | None = None) -> subprocess.CompletedProcess[str]:
    assert TASKGATE.exists(), f"the taskgate console script is not installed beside {sys.executable}"
    env = {**os.environ, "TASKGATE_URL": url}
    env.pop("TASKGATE_API_KEY", None)
    if api_key is not None:
        env["TASKGATE_API_KEY"] = api_key
    return subprocess.run([str(TASKGATE), *args], env=env, capture_output=True, text=True, timeout=60)


def test_submit_and_follow_the_events_to_the_end(patient: TaskgateClient, task_keys: TaskKeys) -> None:
    submitted = patient.submit(PROCESS, ProcessArgs(delay=1.2))
    task_keys.add(submitted.task_id)

    events = list(patient.events(submitted.task_id))

    assert events[0].type is TaskEventType.SNAPSHOT
    assert events[-1].task.status is TaskState.COMPLETED
    assert events[-1].task.result == {"result": COMPLETED_MESSAGE, "delay": 1.2}
    assert [event.last for event in events].count(True) == 1
    assert len({event.id for event in events}) == len(events)
    percents = [event.task.progress.percent for event in events if event.type is TaskEventType.PROGRESS]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert patient.wait(submitted.task_id, 1) == events[-1].task

    # Resuming after any event gives exactly the events after it.
    middle = len(events) // 2
    resumed = list(patient.events(submitted.task_id, last_event_id=events[middle].id))
    assert [event.id for event in resumed] == [event.id for event in events[middle + 1 :]]


async def test_run_returns_the_types_result_or_says_the_task_is_still_pending(
    impatient_api: Service, task_keys: TaskKeys
) -> None:
    async with AsyncTaskgateClient(impatient_api.url, task_timeout=IMPATIENT_TIMEOUT) as client:
        started = time.monotonic()
        completed = await client.run(PROCESS, ProcessArgs(delay=1))
        took = time.monotonic() - started
        # Longer than the api's TASK_TIMEOUT: the client waits in steps the api accepts.
        longer = await client.run(PROCESS, {"delay": IMPATIENT_TIMEOUT + 1}, timeout=IMPATIENT_TIMEOUT + 5)
        with pytest.raises(TaskPendingError) as pending:
            await client.run(PROCESS, {"delay": IMPATIENT_TIMEOUT + 2}, timeout=IMPATIENT_TIMEOUT)
        task_keys.add(pending.value.task_id)
        ended = await client.wait(pending.value.task_id, IMPATIENT_TIMEOUT + 5)

    assert completed == ProcessResult(delay=1)
    assert 1.0 <= took <= 1.5
    assert longer == ProcessResult(delay=IMPATIENT_TIMEOUT + 1)
    assert ended.status is TaskState.COMPLETED
    assert ended.result == {"result": COMPLETED_MESSAGE, "delay": IMPATIENT_TIMEOUT + 2}


def test_an_idempotency_key_attaches_to_one_task(patient: TaskgateClient, task_keys: TaskKeys) -> None:
    key = f"client-live-{uuid4()}"
    first = patient.submit(PROCESS, {"delay": 0.5}, idempotency_key=key)
    task_keys.add(first.task_id)

    assert patient.submit("process", {"delay": 0.5}, idempotency_key=key).task_id == first.task_id
    with pytest.raises(InvalidRequestError, match="different body"):
        patient.submit(PROCESS, {"delay": 1}, idempotency_key=key)


def test_cancel_a_running_task(patient: TaskgateClient, task_keys: TaskKeys) -> None:
    task_id = patient.submit(PROCESS, {"delay": 8}).task_id
    task_keys.add(task_id)
    with closing(patient.events(task_id)) as events:
        running_event = next(event for event in events if event.task.status is TaskState.RUNNING)

    cancelled = patient.cancel(task_id)

    assert running_event.task.worker
    assert cancelled.status is TaskState.CANCELLED
    assert patient.wait(task_id, 2).status is TaskState.CANCELLED
    with pytest.raises(ConflictError) as conflict:
        patient.cancel(task_id)
    assert conflict.value.body.status is TaskState.CANCELLED


def test_a_task_cancelled_as_it_starts_stays_cancelled(patient: TaskgateClient, task_keys: TaskKeys) -> None:
    # The worker is idle after each short job, so it takes the next one up at once, racing the cancel.
    for _ in range(CANCEL_RACE_ROUNDS):
        short = patient.submit(PROCESS, {"delay": 0.2}).task_id
        task_keys.add(short)
        assert patient.wait(short, 5).status is TaskState.COMPLETED
        task_id = patient.submit(PROCESS, {"delay": 5}).task_id
        task_keys.add(task_id)

        answered = patient.cancel(task_id)
        later = patient.wait(task_id, 2)

        assert (answered.status, later.status) == (TaskState.CANCELLED, TaskState.CANCELLED), later


def test_refusals_are_typed(patient: TaskgateClient) -> None:
    with pytest.raises(InvalidRequestError) as invalid:
        patient.submit(PROCESS, {"delay": -1})
    assert [tuple(error.loc) for error in invalid.value.body.detail] == [("body", "delay")]
    with pytest.raises(TaskTypeNotFoundError) as unknown:
        patient.submit("resize", {})
    assert {"process", "thumbnail"} <= set(unknown.value.known)
    with pytest.raises(InvalidRequestError, match="TASK_TIMEOUT"):
        patient.get(str(uuid4()), wait=PATIENT_TIMEOUT + 1)
    with pytest.raises(NotFoundError):
        patient.get(str(uuid4()))
    with pytest.raises(NotFoundError):
        list(patient.events(str(uuid4())))


def test_a_key_is_required_where_the_api_requires_one(keyed_api: Service, task_keys: TaskKeys) -> None:
    with TaskgateClient(keyed_api.url) as anonymous, pytest.raises(UnauthorizedError) as refused:
        anonymous.submit(PROCESS)
    assert refused.value.status_code == 401

    with TaskgateClient(keyed_api.url, api_key=API_KEY) as client:
        assert client.run(PROCESS) == ProcessResult(delay=0)


def test_the_command_follows_a_job_to_its_outcome(api: Service, task_keys: TaskKeys) -> None:
    followed = taskgate(api.url, "submit", "process", "--arg", "delay=1.5", "--follow")
    task_id, *_, outcome = followed.stdout.splitlines()
    task_keys.add(task_id)

    assert followed.returncode == 0, followed.stderr
    assert outcome.startswith("completed in ")
    assert COMPLETED_MESSAGE in outcome
    assert "100%" in followed.stderr
    status = taskgate(api.url, "status", task_id)
    assert status.returncode == 0
    assert "completed" in status.stdout
    assert COMPLETED_MESSAGE in status.stdout


def test_the_command_answers_scripts_in_json(api: Service, task_keys: TaskKeys) -> None:
    submitted = taskgate(api.url, "submit", "process", "--args", '{"delay": 0.2}', "--follow", "--json")
    view = TaskView.model_validate_json(submitted.stdout)
    task_keys.add(view.task_id)
    assert (submitted.returncode, submitted.stderr) == (0, "")
    assert view.status is TaskState.COMPLETED

    status = taskgate(api.url, "status", view.task_id, "--json")
    assert TaskView.model_validate_json(status.stdout) == view
    assert view.result == {"result": COMPLETED_MESSAGE, "delay": 0.2}


def test_the_command_follows_a_job_that_is_cancelled(api: Service, task_keys: TaskKeys) -> None:
    env = {**os.environ, "TASKGATE_URL": api.url}
    follower = subprocess.Popen(
        [str(TASKGATE), "submit", "process", "--args", '{"delay": 8}', "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        task_id = follower.stdout.readline().strip()
        task_keys.add(task_id)
        with TaskgateClient(api.url) as client:
            deadline = time.monotonic() + 10
            while client.get(task_id).status is not TaskState.RUNNING:
                assert time.monotonic() < deadline, "the task never started"
                time.sleep(0.1)
        cancel = taskgate(api.url, "cancel", task_id)
        out, _ = follower.communicate(timeout=10)
    finally:
        follower.kill()
        follower.wait()

    assert cancel.returncode == 0, cancel.stderr
    assert cancel.stdout.startswith("cancelled")
    assert follower.returncode == 1
    assert out.splitlines()[-1].startswith("cancelled")
    assert out.splitlines()[-1].endswith(": cancelled by request")
    again = taskgate(api.url, "cancel", task_id)
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == f"taskgate: error: task {task_id} has already finished\n"


def test_the_command_exit_codes(api: Service, keyed_api: Service, task_keys: TaskKeys) -> None:
    ran = taskgate(api.url, "run", "process", "--arg", "delay=0")
    assert ran.returncode == 0, ran.stderr
    assert '"result": "Запрос выполнен успешно"' in ran.stdout

    refused = taskgate(api.url, "run", "process", "--arg", "delay=-1")
    assert refused.returncode == 2
    assert refused.stderr.startswith("taskgate: error: invalid request: body.delay:")
    unknown = taskgate(api.url, "status", str(uuid4()))
    assert unknown.returncode == 2
    assert "was never submitted" in unknown.stderr
    anonymous = taskgate(keyed_api.url, "status", str(uuid4()))
    assert anonymous.returncode == 2
    assert "TASKGATE_API_KEY" in anonymous.stderr
    assert taskgate(keyed_api.url, "status", str(uuid4()), api_key=API_KEY).returncode == 2  # 404: let in
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = taskgate(nobody, "status", str(uuid4()))
    assert unreachable.returncode == 3
    assert (
        unreachable.stderr
        == f"taskgate: error: cannot reach the api at {nobody}: [Errno 111] Connection refused\n"
    )
    for result in (refused, unknown, anonymous, unreachable):
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
