"""The example type passes the checks every task type should, and its handler tells a transient
failure of the page's server from a permanent one."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from taskgate_example_wordcount import WORDCOUNT, WordcountArgs, WordcountResult, count_words

from taskgate_contracts import TaskSettings, TransientError
from taskgate_contracts.testing import TaskTypeTests


class TestWordcount(TaskTypeTests):
    spec = WORDCOUNT


class Context:
    """What the worker hands a handler, reduced to what this one uses."""

    task_id = "t"
    attempt = 1
    settings: TaskSettings | None = None

    def __init__(self) -> None:
        self.reports: list[tuple[float, str]] = []

    def report(self, percent: float, message: str = "", *, current: int = 0, total: int = 0) -> None:
        self.reports.append((percent, message))

    def raise_if_cancelled(self) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[int]]]:
    """A page server answering each path with the status it names: `/200`, `/503`, `/404`."""
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = int(self.path.strip("/"))
            statuses.append(status)
            body = b"one two, three" if status == 200 else b"no"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", statuses
    httpd.shutdown()
    httpd.server_close()


def test_the_words_of_a_page_are_counted(server: tuple[str, list[int]]) -> None:
    url, _ = server
    context = Context()
    assert count_words(WordcountArgs(url=f"{url}/200"), context) == WordcountResult(words=3, characters=14)
    assert [percent for percent, _ in context.reports] == [0, 50]


def test_a_server_error_is_transient_and_a_client_error_is_not(server: tuple[str, list[int]]) -> None:
    url, _ = server
    with pytest.raises(TransientError, match="503"):
        count_words(WordcountArgs(url=f"{url}/503"), Context())
    with pytest.raises(ValueError, match="404"):
        count_words(WordcountArgs(url=f"{url}/404"), Context())


def test_a_refused_connection_is_transient(server: tuple[str, list[int]]) -> None:
    url, _ = server
    closed = url.rsplit(":", 1)[0] + ":1"
    with pytest.raises(TransientError, match="could not be fetched"):
        count_words(WordcountArgs(url=f"{closed}/200"), Context())
