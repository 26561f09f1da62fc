"""The `/docs` page in a real browser on a machine without internet access: headless Chromium (Debian's,
driven by Playwright) with every request that leaves the machine aborted, against an api with API keys
set, read by a person who has no key.
"""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from taskgate_contracts import discover
from testkit.processes import Service, answers, running, settings_env, start_api, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: ReDoc's "powered by" logo, hard-coded to its CDN; ReDoc hides it when it cannot load, as offline.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def keyed_api(
    request: pytest.FixtureRequest, main_vhost: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = settings_env(main_vhost, api_keys="docs-test-key")
    with running(request.config, start_api("keyed-api", env, tmp_path_factory.mktemp("docs"))) as api:
        wait_until("the api to answer", answers(f"{api.url}/healthz", 200), [api])
        yield api


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing: apt-get install chromium (.ci/run installs it)", pytrace=False
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def offline_page(browser: Browser) -> tuple[Page, list[str]]:
    """A page whose requests to anywhere but this machine are aborted; the list of those it tried."""
    page = browser.new_page()
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https"} and urlsplit(url).hostname not in _LOOPBACK:
            blocked.append(url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", only_loopback)
    return page, blocked


def test_swagger_ui_renders_every_task_types_operations_offline(browser: Browser, keyed_api: Service) -> None:
    page, blocked = offline_page(browser)
    page.goto(f"{keyed_api.url}/docs")
    for spec in (spec for spec in discover() if not spec.internal):
        for path in (f"/submit/{spec.name}", f"/run/{spec.name}"):
            page.wait_for_selector(f'.opblock-summary-path[data-path="{path}"]', timeout=30_000)
    # The key is given once, through the Authorize button of the bearer scheme.
    assert page.locator("button.authorize").is_visible()
    assert blocked == []


def test_redoc_renders_offline(browser: Browser, keyed_api: Service) -> None:
    page, blocked = offline_page(browser)
    page.goto(f"{keyed_api.url}/redoc")
    for spec in (spec for spec in discover() if not spec.internal):
        heading = f"h2:has-text('Run a {spec.name} task and wait for its outcome')"
        page.wait_for_selector(heading, state="attached", timeout=30_000)
    assert set(blocked) <= {REDOC_LOGO}
