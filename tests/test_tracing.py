"""One trace per job, across the api and the worker: exported over OTLP to a receiver inside the test.

A stack of its own (vhost, worker and api, both traced: OTEL_EXPORTER_OTLP_ENDPOINT names the receiver)
runs a job that completes, one that fails, one that is cancelled and one that is retried; each job's
spans must form one tree whose parent links cross from the api's process into the worker's.
"""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from taskgate_contracts import TaskState
from testkit.infrastructure import TaskKeys, temporary_vhost
from testkit.otlp import ExportedSpan, OtlpReceiver
from testkit.processes import Service, running, settings_env, start_api, start_worker, wait_ready
from tests.client import connect, wait_for_state
from tests.test_task_types import FlakyPage

API, WORKER = "taskgate-api", "taskgate-worker"
#: The worker's soft time limit: a job asking for more fails with "time limit exceeded".
TIME_LIMIT = 2


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as otlp:
        yield otlp


@pytest.fixture(scope="module")
def traced_api(
    request: pytest.FixtureRequest,
    receiver: OtlpReceiver,
    task_keys: TaskKeys,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    with temporary_vhost() as vhost:
        env = {**settings_env(vhost, task_time_limit=TIME_LIMIT, task_timeout=10), **receiver.environment()}
        workdir = tmp_path_factory.mktemp("traced")
        with (
            running(request.config, start_worker(env, workdir)) as worker,
            running(request.config, start_api("traced-api", env, workdir)) as api,
        ):
            wait_ready(api, worker)
            yield api


@pytest.fixture
async def client(traced_api: Service, task_keys: TaskKeys) -> AsyncIterator[httpx.AsyncClient]:
    async with connect(traced_api.url, task_keys) as http:
        yield http


class Tree:
    """A job's trace as exported: its spans by id, and what the assertions ask of them."""

    def __init__(self, spans: list[ExportedSpan]) -> None:
        self.spans = {span.span_id: span for span in spans}
        assert len({span.trace_id for span in spans}) == 1, "a job's spans are in one trace"

    def one(self, name: str, service: str) -> ExportedSpan:
        (span,) = self.all(name, service)
        return span

    def all(self, name: str, service: str) -> list[ExportedSpan]:
        return [span for span in self.spans.values() if span.name == name and span.service == service]

    def parent(self, span: ExportedSpan) -> ExportedSpan:
        assert span.parent_id in self.spans, f"{span.name}: its parent was not exported with it"
        return self.spans[span.parent_id]

    def children(self, span: ExportedSpan) -> list[ExportedSpan]:
        return [child for child in self.spans.values() if child.parent_id == span.span_id]

    def render(self) -> str:
        """The tree as text, for the report of a failing test (and the closing note of the issue)."""
        lines: list[str] = []

        def walk(span: ExportedSpan, depth: int) -> None:
            lines.append(
                f"{'  ' * depth}{span.name} [{span.kind}] {span.service} pid {span.pid} "
                f"span {span.span_id} parent {span.parent_id or '-'}"
                + (f" links {sorted(span.links)}" if span.links else "")
            )
            for child in sorted(self.children(span), key=lambda child: child.name):
                walk(child, depth + 1)

        for root in (span for span in self.spans.values() if span.parent_id not in self.spans):
            walk(root, 0)
        return "\n".join(lines)


def job_tree(receiver: OtlpReceiver, task_id: str, runs: int = 1) -> Tree:
    """The job's trace once its runs and the request's server span (the last to end) are exported."""

    def spans() -> list[ExportedSpan]:
        # The trace the task was published in; requests that looked at it or cancelled it have their own.
        named = receiver.trace_of(task_id)
        published = {span.trace_id for span in named if span.kind == "producer"}
        return [span for span in named if span.trace_id in published]

    def complete(_: list[ExportedSpan]) -> bool:
        kinds = [span.kind for span in spans()]
        return kinds.count("server") >= 1 and kinds.count("consumer") >= runs

    receiver.wait_for(f"the trace of {task_id}", complete)
    tree = Tree(spans())
    print(f"trace of task {task_id}:\n{tree.render()}")
    return tree


def assert_job_tree(tree: Tree, task_id: str, route: str, state: TaskState) -> ExportedSpan:
    """The api's request span at the root; under it the publish; the worker's run span under that, in
    another process; the job named on each. The run span, for more checks."""
    server = tree.one(f"POST {route}", API)
    assert (server.kind, server.parent_id) == ("server", "")
    assert server.attributes["taskgate.task_id"] == task_id
    publish = tree.one(f"send taskgate.{server.attributes['taskgate.task_type']}", API)
    assert (publish.kind, tree.parent(publish)) == ("producer", server)
    assert publish.attributes["messaging.destination.name"]
    (run,) = [span for span in tree.children(publish) if span.kind == "consumer"]
    assert run.service == WORKER
    assert run.pid != server.pid
    assert run.name == f"run/taskgate.{server.attributes['taskgate.task_type']}"
    assert run.attributes["taskgate.task_id"] == task_id
    assert run.attributes["taskgate.task_state"] == state.value
    return run


async def test_a_completed_job_is_one_tree_from_the_request_to_the_worker_and_back(
    client: httpx.AsyncClient, receiver: OtlpReceiver
) -> None:
    response = await client.post("/run/process", json={"delay": 0.2})
    assert response.status_code == httpx.codes.OK, response.text
    task_id = response.json()["task_id"]

    tree = job_tree(receiver, task_id)
    run = assert_job_tree(tree, task_id, "/run/process", TaskState.COMPLETED)
    server = tree.one("POST /run/process", API)
    assert server.attributes["taskgate.task_type"] == "process"
    assert server.attributes["http.request.header.x-request-id"]
    assert run.attributes["taskgate.task_type"] == "process"
    # The worker's writes of the result, as Redis commands under its run.
    assert any(
        child.kind == "client" and child.attributes.get("db.system") == "redis"
        for child in tree.children(run)
    )
    # The result reached the waiting request: a span under the request, in the api's process.
    delivery = tree.one("deliver result", API)
    assert tree.parent(delivery) == server
    assert delivery.attributes["taskgate.task_state"] == TaskState.COMPLETED.value


async def test_a_failed_job_marks_its_run_and_its_delivery_as_errors(
    client: httpx.AsyncClient, receiver: OtlpReceiver
) -> None:
    response = await client.post("/process", json={"delay": TIME_LIMIT + 2})
    assert response.status_code == httpx.codes.INTERNAL_SERVER_ERROR, response.text
    task_id = response.json()["task_id"]

    tree = job_tree(receiver, task_id)
    run = assert_job_tree(tree, task_id, "/process", TaskState.FAILED)
    assert run.status == 2
    delivery = tree.one("deliver result", API)
    assert (delivery.status, tree.parent(delivery).name) == (2, "POST /process")


async def test_a_cancelled_job_ends_its_run_as_cancelled(
    client: httpx.AsyncClient, receiver: OtlpReceiver
) -> None:
    response = await client.post("/submit/process", json={"delay": 8})
    assert response.status_code == httpx.codes.ACCEPTED, response.text
    task_id = response.json()["task_id"]
    await wait_for_state(client, task_id, TaskState.RUNNING, within=15)
    assert (await client.delete(f"/tasks/{task_id}")).status_code == httpx.codes.ACCEPTED

    tree = job_tree(receiver, task_id)
    assert_job_tree(tree, task_id, "/submit/process", TaskState.CANCELLED)
    # The cancelling request has a trace of its own, naming the task it cancelled.
    (cancelling,) = [span for span in receiver.trace_of(task_id) if span.name == "DELETE /tasks/{task_id}"]
    assert cancelling.trace_id not in {span.trace_id for span in tree.spans.values()}


async def test_a_retried_job_chains_its_attempts_each_linked_to_the_one_before(
    client: httpx.AsyncClient, receiver: OtlpReceiver
) -> None:
    with FlakyPage(failures=1) as page:
        response = await client.post("/submit/example.wordcount", json={"url": page.url})
        assert response.status_code == httpx.codes.ACCEPTED, response.text
        task_id = response.json()["task_id"]
        await wait_for_state(client, task_id, TaskState.COMPLETED, within=30)

    tree = job_tree(receiver, task_id, runs=2)
    server = tree.one("POST /submit/example.wordcount", API)
    publish = tree.one("send taskgate.example.wordcount", API)
    assert tree.parent(publish) == server
    first, second = sorted(
        tree.all("run/taskgate.example.wordcount", WORKER),
        key=lambda span: span.attributes["taskgate.attempt"],
    )
    assert tree.parent(first) == publish
    assert first.attributes["taskgate.task_state"] == "retry"
    # The retry is published from inside the first attempt; the second runs under that publish ...
    retry = tree.parent(second)
    assert (retry.kind, retry.service, tree.parent(retry)) == ("producer", WORKER, first)
    # ... and links back to the attempt it retries.
    assert second.links == {first.span_id: {"taskgate.link": "previous attempt"}}
    assert (second.attributes["taskgate.attempt"], second.attributes["taskgate.task_state"]) == (
        2,
        "completed",
    )
    assert second.attributes["taskgate.task_id"] == task_id
