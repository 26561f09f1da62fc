"""Two task types at once: delay-0 `process` jobs through the api while `thumbnail` jobs keep a worker of
their own busy.

Each type has its queue and its worker, so a slow type must not hold up another; what they share is the
api and the machine. `process` is loaded with wrk alone first, then again while THUMBNAIL_CLIENTS clients
send `POST /run/thumbnail` back to back — always a thumbnail job queued behind the running one, so its
worker never waits. The photo is drawn here: a gradient with noise, as JPEG, shrunk to fit a box.
"""

import base64
import threading
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageFilter

from bench import client, wrk
from bench.client import Answer
from bench.cpu import CpuMeter
from bench.services import start_worker
from bench.targets import Scenario, at_least, equal, reported
from testkit.processes import Service, wait_until

CONNECTIONS = 50
SECONDS = 15
THROUGHPUT_SHARE = 0.8
THUMBNAIL_CLIENTS = 4
#: The photo's size, and the box its thumbnail fits in.
PHOTO = (1600, 1200)
BOX = 256
#: The thumbnail load starts this long before wrk and runs this long after it.
_LEAD_SECONDS = 1.0
_ANSWER_TIMEOUT = 30


def photo() -> bytes:
    """A JPEG photo-like enough that decoding and resampling it cost what a camera's would per pixel."""
    gradient = Image.linear_gradient("L").resize(PHOTO)
    noise = Image.effect_noise(PHOTO, 64).filter(ImageFilter.GaussianBlur(1))
    image = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    out = BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def measure(api: Service, process_worker: Service, env: dict[str, str], logs: Path) -> list[Scenario]:
    """`process` alone, then beside `thumbnail` jobs on a worker of their own."""
    with CpuMeter(api, [process_worker]) as meter:
        alone = wrk.run(f"{api.url}/process", CONNECTIONS, SECONDS, delay=0, timeout=_ANSWER_TIMEOUT)
    first = Scenario(f"`process` alone: delay 0, {CONNECTIONS} connections (wrk), {SECONDS} s")
    first.add(reported("throughput", alone.per_second, "req/s"), equal("errors", alone.errors, 0, ""))
    first.add(*meter.figures(alone.requests, alone.requests))
    first.raw = {"per_second": alone.per_second, "requests": alone.requests}

    image = photo()
    body = {"image": base64.b64encode(image).decode(), "width": BOX, "height": BOX}
    request = client.post_request(api.url, "/run/thumbnail", body)
    thumbnail_worker = start_worker(env, logs, concurrency=1, tasks="thumbnail")
    try:
        # Up once a thumbnail job has gone through it.
        wait_until(
            "the thumbnail worker to answer",
            lambda: client.drive(client.sequential(api.url, request, 1, 0))[0].status == 200,
            [api, thumbnail_worker],
        )
        thumbnails: list[Answer] = []
        load = threading.Thread(
            target=lambda: thumbnails.extend(
                client.drive(
                    client.closed_loop(api.url, request, THUMBNAIL_CLIENTS, SECONDS + 2 * _LEAD_SECONDS)
                )
            )
        )
        with CpuMeter(api, [process_worker, thumbnail_worker]) as meter:
            load.start()
            threading.Event().wait(_LEAD_SECONDS)
            beside = wrk.run(f"{api.url}/process", CONNECTIONS, SECONDS, delay=0, timeout=_ANSWER_TIMEOUT)
            load.join()
    finally:
        thumbnail_worker.stop()
    done = [answer for answer in thumbnails if answer.body.get("status") == "completed"]
    second = Scenario(
        f"two task types at once: `process` as above while {THUMBNAIL_CLIENTS} clients keep a "
        f"`thumbnail` worker busy ({PHOTO[0]}×{PHOTO[1]} JPEG to {BOX} px)"
    )
    second.add(
        at_least(
            "`process` throughput",
            beside.per_second,
            THROUGHPUT_SHARE * alone.per_second,
            "req/s",
            f"{THROUGHPUT_SHARE:g} × {alone.per_second:.0f}/s alone",
        ),
        equal("`process` errors", beside.errors, 0, ""),
        reported("thumbnails made", len(done) / (SECONDS + 2 * _LEAD_SECONDS), "jobs/s"),
        equal("thumbnail answers not `completed`", len(thumbnails) - len(done), 0, ""),
        *meter.figures(beside.requests + len(thumbnails), beside.requests + len(thumbnails)),
    )
    second.raw = {
        "per_second": beside.per_second,
        "alone_per_second": alone.per_second,
        "thumbnails": len(thumbnails),
        "thumbnails_completed": len(done),
        "statuses": beside.statuses,
    }
    return [first, second]
