"""Screenshots of the monitoring UIs and the api's documentation on a live stack, for the README and the
docs: `nox -s screenshots`.

Starts the stack with `taskgate-ops up` against this machine's RabbitMQ and Redis (a vhost of its own,
removed afterwards, and only its own tasks' keys in Redis), sends a few jobs through the api and cancels
the last while it runs, and lets headless Chromium (Debian's, driven by Playwright) capture Flower's task
list (the cancelled job REVOKED), RabbitMQ's queue page, and the api's `/docs` with every request that
would leave the machine aborted.
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import HttpCredentials, Page, Route, ViewportSize, sync_playwright
from redis import Redis

HOST = "127.0.0.1"
MANAGEMENT = f"http://{HOST}:15672"
ADMIN = ("guest", "guest")
VHOST = "taskgate-screenshots"
REDIS_URL = f"redis://{HOST}:6379/14"
FLOWER_USER = "admin"
#: The seed's screenshots show finished jobs beside queued ones; a long last job is cancelled as it runs.
DELAYS = (1.0, 2.0, 1.5, 0.5, 3.0)
LONG_DELAY = 30.0
VIEWPORT: ViewportSize = {"width": 1400, "height": 800}
#: How the end-to-end tests run Debian's chromium too (tests/test_docs_page.py).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(what: str, ready: Callable[[], bool], stack: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if stack.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.3)


def answers(url: str, auth: tuple[str, str] | None = None) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, auth=auth, timeout=3.0).status_code == httpx.codes.OK
        except httpx.HTTPError:
            return False

    return probe


def send_jobs(api: str) -> list[str]:
    """Send the jobs at once (one worker process runs them in order), then a long one, cancelled once it
    runs; the ids of them all."""
    with ThreadPoolExecutor(len(DELAYS)) as pool:
        answers = []
        for delay in DELAYS:
            answers.append(pool.submit(httpx.post, f"{api}/process", json={"delay": delay}, timeout=60.0))
            time.sleep(0.2)
        long = httpx.post(f"{api}/tasks", json={"delay": LONG_DELAY}, timeout=10.0).json()["task_id"]
        ids = [answer.result().json()["task_id"] for answer in answers]
    while httpx.get(f"{api}/tasks/{long}", timeout=10.0).json()["status"] != "running":
        time.sleep(0.2)
    httpx.delete(f"{api}/tasks/{long}", timeout=10.0).raise_for_status()
    return [*ids, long]


def revoked_in_flower(flower: str, task_id: str, auth: tuple[str, str]) -> Callable[[], bool]:
    def probe() -> bool:
        answer = httpx.get(f"{flower}/api/task/info/{task_id}", auth=auth, timeout=3.0)
        return answer.status_code == httpx.codes.OK and answer.json().get("state") == "REVOKED"

    return probe


def capture_flower(page: Page, flower: str, out: Path) -> None:
    page.goto(f"{flower}/tasks")
    page.wait_for_selector("#tasks-table tbody tr td")
    page.screenshot(path=str(out))


def capture_rabbitmq(page: Page, out: Path) -> None:
    page.goto(f"{MANAGEMENT}/")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("input[type=submit]")
    page.wait_for_selector("#logout")
    page.goto(f"{MANAGEMENT}/#/queues")
    # Only this stack's vhost, as a reader of the README would see a broker that runs taskgate alone.
    page.select_option("#show-vhost", VHOST)
    page.wait_for_selector("table.list td a:text-is('taskgate')")
    page.screenshot(path=str(out), full_page=True)


def capture_docs(page: Page, api: str, out: Path) -> None:
    """Swagger UI as a machine without internet access shows it: requests off this machine are aborted."""

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in _LOOPBACK:
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(f"{api}/docs")
    page.wait_for_selector('.opblock-summary-path[data-path="/run/thumbnail"]')
    page.screenshot(path=str(out))


def clean_up(task_ids: list[str]) -> None:
    httpx.delete(f"{MANAGEMENT}/api/vhosts/{VHOST}", auth=ADMIN, timeout=10.0)
    client = Redis.from_url(REDIS_URL)
    try:
        for task_id in task_ids:  # the database is shared: only this run's tasks' keys go
            keys = list(client.scan_iter(match=f"*{task_id}*"))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    password = secrets.token_urlsafe(12)
    api_port, flower_port = free_port(), free_port()
    api, flower = f"http://{HOST}:{api_port}", f"http://{HOST}:{flower_port}"
    workdir = Path(tempfile.mkdtemp(prefix="taskgate-screenshots-"))
    env = {
        **os.environ,
        "RABBITMQ_VHOST": VHOST,
        "REDIS_URL": REDIS_URL,
        "FLOWER_BASIC_AUTH": f"{FLOWER_USER}:{password}",
        "FLOWER_DB": str(workdir / "flower.db"),
    }
    auth = (FLOWER_USER, password)
    command = [
        *(sys.executable, "-m", "taskgate_ops", "up"),
        *("--api-port", str(api_port), "--flower-port", str(flower_port)),
    ]
    stack = subprocess.Popen(command, env=env, cwd=workdir, start_new_session=True)  # noqa: S603
    task_ids: list[str] = []
    images = [args.out / name for name in ("flower-tasks.png", "rabbitmq-queues.png", "docs-offline.png")]
    try:
        wait_for("the api", answers(f"{api}/readyz"), stack)
        wait_for("Flower", answers(f"{flower}/healthcheck"), stack)
        task_ids = send_jobs(api)
        wait_for(
            "Flower to show the cancelled job revoked", revoked_in_flower(flower, task_ids[-1], auth), stack
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
            credentials: HttpCredentials = {"username": FLOWER_USER, "password": password}
            flower_page = browser.new_page(viewport=VIEWPORT, http_credentials=credentials)
            capture_flower(flower_page, flower, images[0])
            capture_rabbitmq(browser.new_page(viewport=VIEWPORT), images[1])
            capture_docs(browser.new_page(viewport=VIEWPORT), api, images[2])
            browser.close()
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=30)
        clean_up(task_ids)
    print("wrote " + ", ".join(str(image) for image in images))


if __name__ == "__main__":
    main()
