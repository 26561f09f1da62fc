"""Talking to a running api over HTTP, the way a client of taskgate does."""

import asyncio
import time

import httpx

from taskgate_contracts import TaskState, TaskView
from testkit.infrastructure import TaskKeys


def connect(url: str, keys: TaskKeys) -> httpx.AsyncClient:
    """A client of the api at `url` that notes every task id it is given, for cleanup."""

    async def note_task_id(response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith("application/json"):
            await response.aread()
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("task_id"), str):
                keys.add(body["task_id"])

    # Longer than any TASK_TIMEOUT the tests use, so a slow answer fails an assertion, not the transport.
    return httpx.AsyncClient(base_url=url, timeout=30.0, event_hooks={"response": [note_task_id]})


async def task_view(client: httpx.AsyncClient, task_id: str) -> TaskView:
    response = await client.get(f"/tasks/{task_id}")
    assert response.status_code == httpx.codes.OK, response.text
    return TaskView.model_validate_json(response.content)


async def wait_for_state(
    client: httpx.AsyncClient, task_id: str, state: TaskState, within: float
) -> TaskView:
    """Poll GET /tasks/{id} until the task reaches `state`; fail with its last view after `within` seconds."""
    deadline = time.monotonic() + within
    view = await task_view(client, task_id)
    while view.status is not state:
        assert time.monotonic() < deadline, f"task not {state} after {within} s: {view}"
        await asyncio.sleep(0.1)
        view = await task_view(client, task_id)
    return view
