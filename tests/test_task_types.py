"""Task types as plug-ins, end to end: the three installed types (`process`, `thumbnail`, and the example
package's `example.wordcount`, installed by entry points alone) over HTTP against the real worker."""

import base64
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image

from taskgate_contracts import (
    FailedResponse,
    ReadinessResponse,
    SubmittedResponse,
    TaskState,
    UnknownTaskTypeResponse,
    ValidationErrorResponse,
)
from testkit.infrastructure import HOST
from testkit.processes import Service, running, settings_env, start_worker, wait_until
from tests.client import wait_for_state

TYPES = ("process", "thumbnail", "example.wordcount")


def png(width: int, height: int, mode: str = "RGB") -> str:
    image = Image.new(mode, (width, height), "red" if mode != "L" else 128)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


async def test_every_type_has_its_two_operations_in_the_live_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = {
        operation["operationId"]: (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    for name in TYPES:
        slug = name.replace(".", "_")
        assert operations[f"submit_{slug}"] == ("post", f"/submit/{name}")
        assert operations[f"run_{slug}"] == ("post", f"/run/{name}")
    assert operations["process"] == ("post", "/process")
    assert operations["submit_task"] == ("post", "/tasks")


async def test_an_unknown_type_is_a_404_naming_the_known_ones(client: httpx.AsyncClient) -> None:
    for path in ("/submit/resize", "/run/resize"):
        response = await client.post(path, json={})
        assert response.status_code == httpx.codes.NOT_FOUND, response.text
        body = UnknownTaskTypeResponse.model_validate_json(response.content)
        assert set(TYPES) <= set(body.known)
        assert "resize" in body.detail


async def test_a_thumbnail_is_made_to_fit_the_box(client: httpx.AsyncClient) -> None:
    response = await client.post("/run/thumbnail", json={"image": png(400, 200), "width": 100, "height": 100})

    assert response.status_code == httpx.codes.OK, response.text
    body = response.json()
    assert body["status"] == "completed"
    result = body["result"]
    assert (result["width"], result["height"], result["format"]) == (100, 50, "png")
    made = Image.open(io.BytesIO(base64.b64decode(result["image"])))
    assert (made.format, made.size) == ("PNG", (100, 50))
    view = (await client.get(f"/tasks/{body['task_id']}")).json()
    assert (view["task"], view["result"]) == ("thumbnail", result)


async def test_a_thumbnail_is_never_larger_than_its_image(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/run/thumbnail", json={"image": png(20, 10, "L"), "width": 500, "height": 500}
    )

    assert response.status_code == httpx.codes.OK, response.text
    assert (response.json()["result"]["width"], response.json()["result"]["height"]) == (20, 10)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"image": png(4, 4), "width": 0, "height": 10}, "width"),
        ({"image": png(4, 4), "width": 10, "height": -1}, "height"),
        ({"image": "not base64!", "width": 10, "height": 10}, "image"),
        ({"image": png(4, 4), "width": "10", "height": 10}, "width"),
        ({"width": 10, "height": 10}, "image"),
    ],
)
async def test_a_thumbnail_box_or_image_that_cannot_be_is_a_422(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/submit/thumbnail", json=body)

    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY, response.text
    errors = ValidationErrorResponse.model_validate_json(response.content).detail
    assert ["body", field] in [error.loc for error in errors]


def _bomb() -> str:
    """A small PNG whose header claims 100,000 × 100,000 pixels: decoding it would take 30 GB."""
    raw = bytearray(base64.b64decode(png(1, 1)))
    raw[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR width and height; the CRC no longer matches
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (base64.b64encode(b"GIF89a but not really an image").decode(), "ValueError"),
        (png(50, 50)[:60], "ValueError"),
        (_bomb(), "ValueError"),
    ],
    ids=["not an image", "truncated", "decompression bomb"],
)
async def test_an_image_the_worker_cannot_read_fails_the_task_cleanly(
    client: httpx.AsyncClient, image: str, reason: str
) -> None:
    response = await client.post("/run/thumbnail", json={"image": image, "width": 10, "height": 10})

    assert response.status_code == httpx.codes.INTERNAL_SERVER_ERROR, response.text
    failed = FailedResponse.model_validate_json(response.content)
    assert failed.error.startswith(reason)
    assert "Traceback" not in failed.error
    # The worker lives on: the next thumbnail is made.
    response = await client.post("/run/thumbnail", json={"image": png(8, 8), "width": 4, "height": 4})
    assert response.status_code == httpx.codes.OK, response.text


class FlakyPage:
    """A web page whose server fails a number of requests with 503 before it answers."""

    def __init__(self, failures: int, status: int = 503) -> None:
        self.failures = failures
        self.status = status
        self.requests = 0
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page.requests += 1
                if page.requests <= page.failures:
                    self.send_error(page.status)
                    return
                body = b"one two three four five"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/page"

    def __enter__(self) -> "FlakyPage":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_a_plugin_types_transient_failures_are_absorbed_by_its_retry_policy(
    client: httpx.AsyncClient,
) -> None:
    with FlakyPage(failures=2) as page:
        response = await client.post("/submit/example.wordcount", json={"url": page.url})
        assert response.status_code == httpx.codes.ACCEPTED, response.text
        task_id = SubmittedResponse.model_validate_json(response.content).task_id
        view = await wait_for_state(client, task_id, TaskState.COMPLETED, within=15)

    assert page.requests == 3
    assert (view.task, view.attempts) == ("example.wordcount", 3)
    assert view.result == {"words": 5, "characters": 23}


async def test_a_plugin_types_permanent_failure_is_not_retried(client: httpx.AsyncClient) -> None:
    with FlakyPage(failures=10, status=404) as page:
        response = await client.post("/run/example.wordcount", json={"url": page.url})

    assert response.status_code == httpx.codes.INTERNAL_SERVER_ERROR, response.text
    assert "404" in FailedResponse.model_validate_json(response.content).error
    assert page.requests == 1


@pytest.fixture
def thumbnail_worker(
    request: pytest.FixtureRequest, main_vhost: str, tmp_path: Path, worker: Service
) -> Iterator[Service]:
    """A second worker on the main stack's vhost and host, hosting only thumbnails, with the node name it
    picks itself."""
    env = settings_env(main_vhost)
    service = start_worker(env, tmp_path, tasks="thumbnail", named=False)
    with running(request.config, service):
        wait_until("the thumbnail worker", lambda: " ready." in service.log_tail(), [service])
        yield service


async def test_workers_of_a_subset_run_side_by_side_with_names_of_their_own(
    client: httpx.AsyncClient, thumbnail_worker: Service
) -> None:
    log = thumbnail_worker.log_path.read_text(errors="replace")
    assert "ResourceLocked" not in log
    assert "taskgate-thumbnail-" in log
    readiness = ReadinessResponse.model_validate_json((await client.get("/readyz")).content)
    consumers = {queue.queue: queue.consumers for queue in readiness.queues}
    assert consumers["taskgate.thumbnail"] == 2, readiness.queues
    assert consumers["taskgate"] == 1, readiness.queues
    assert thumbnail_worker.process.poll() is None
