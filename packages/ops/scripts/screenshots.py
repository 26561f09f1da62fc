"""Screenshots of the monitoring UIs on a live stack, for the README: `nox -s screenshots`.

Starts the stack with `taskgate-ops up` against this machine's RabbitMQ and Redis (a vhost and Redis
database of its own, removed afterwards), sends a few jobs through the api, and lets headless Chromium
(Debian's, driven by Playwright) capture Flower's task list and RabbitMQ's queue page.
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

import httpx
from playwright.sync_api import HttpCredentials, Page, ViewportSize, sync_playwright
from redis import Redis

HOST = "127.0.0.1"
MANAGEMENT = f"http://{HOST}:15672"
ADMIN = ("guest", "guest")
VHOST = "taskgate-screenshots"
REDIS_URL = f"redis://{HOST}:6379/14"
FLOWER_USER = "admin"
#: The seed's screenshots show finished jobs beside queued ones; a long last job keeps one running.
DELAYS = (1.0, 2.0, 1.5, 0.5, 3.0, 30.0)
VIEWPORT: ViewportSize = {"width": 1400, "height": 800}


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


def send_jobs(api: str) -> None:
    """Send the jobs at once (one worker process runs them in order); return when all but the last ended."""
    pool = ThreadPoolExecutor(len(DELAYS))
    for delay in DELAYS:
        pool.submit(httpx.post, f"{api}/process", json={"delay": delay}, timeout=60.0)
        time.sleep(0.2)
    time.sleep(sum(DELAYS[:-1]) + 2)
    pool.shutdown(wait=False)


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


def clean_up() -> None:
    httpx.delete(f"{MANAGEMENT}/api/vhosts/{VHOST}", auth=ADMIN, timeout=10.0)
    client = Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
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
    command = [
        *(sys.executable, "-m", "taskgate_ops", "up"),
        *("--api-port", str(api_port), "--flower-port", str(flower_port)),
    ]
    stack = subprocess.Popen(command, env=env, cwd=workdir, start_new_session=True)  # noqa: S603
    try:
        wait_for("the api", answers(f"{api}/readyz"), stack)
        wait_for("Flower", answers(f"{flower}/healthcheck"), stack)
        send_jobs(api)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, headless=True)
            credentials: HttpCredentials = {"username": FLOWER_USER, "password": password}
            flower_page = browser.new_page(viewport=VIEWPORT, http_credentials=credentials)
            capture_flower(flower_page, flower, args.out / "flower-tasks.png")
            capture_rabbitmq(browser.new_page(viewport=VIEWPORT), args.out / "rabbitmq-queues.png")
            browser.close()
    finally:
        stack.send_signal(signal.SIGTERM)
        stack.wait(timeout=30)
        clean_up()
    print(f"wrote {args.out / 'flower-tasks.png'} and {args.out / 'rabbitmq-queues.png'}")


if __name__ == "__main__":
    main()
