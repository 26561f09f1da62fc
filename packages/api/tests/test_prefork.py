"""`taskgate-api --workers N`: several api processes on one port, supervised, as real processes.

/healthz needs neither RabbitMQ nor Redis, so the processes run against addresses where nothing listens.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from taskgate_api.server import prefork

HOST = "127.0.0.1"
#: What the api processes need to start: no service has to be reachable for /healthz.
ENV = {
    **os.environ,
    "RABBITMQ_HOST": HOST,
    "PORT_AMQP": "1",
    "REDIS_URL": f"redis://{HOST}:1/0",
    "ENVIRONMENT": "development",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def start(port: int, workers: int | None, cwd: Path | None = None, **env: str) -> "subprocess.Popen[str]":
    command = [
        sys.executable,
        "-m",
        "taskgate_api",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if workers is not None:
        command += ["--workers", str(workers)]
    return subprocess.Popen(command, env={**ENV, **env}, stderr=subprocess.PIPE, text=True, cwd=cwd)


def wait_serving(url: str, supervisor: "subprocess.Popen[str]", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert supervisor.poll() is None, supervisor.communicate()[1]
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not serve within {timeout} s")


def healthz_count(url: str) -> float:
    """The requests to /healthz counted over all the api's processes, as /metrics reports them."""
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("taskgate_http_requests_total{") and 'route="/healthz"' in line:
            return float(line.rpartition(" ")[2])
    return 0.0


@pytest.fixture
def supervised() -> Iterator[tuple["subprocess.Popen[str]", str]]:
    port = free_port()
    supervisor = start(port, workers=2)
    url = f"http://{HOST}:{port}"
    try:
        wait_serving(url, supervisor)
        yield supervisor, url
    finally:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
        supervisor.communicate(timeout=40)


def test_processes_share_the_port_and_their_metrics_are_summed(
    supervised: tuple["subprocess.Popen[str]", str],
) -> None:
    supervisor, url = supervised
    processes = children(supervisor.pid)
    assert len(processes) == 2
    before = healthz_count(url)
    for _ in range(40):  # new connections each: the kernel spreads them over both processes
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    assert healthz_count(url) == before + 40
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 0
    for pid in processes:
        assert not Path(f"/proc/{pid}").exists()


def test_a_process_that_dies_is_replaced(supervised: tuple["subprocess.Popen[str]", str]) -> None:
    supervisor, url = supervised
    time.sleep(10.5)  # past the start-up window: a death after it is a crash, not a failed start
    victim = children(supervisor.pid)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = children(supervisor.pid)
        if len(current) == 2 and victim not in current:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"no process replaced {victim}")
    wait_serving(url, supervisor)
    assert supervisor.poll() is None


def test_a_wrong_setting_stops_every_process_with_its_message() -> None:
    supervisor = start(free_port(), workers=2, TASK_TIMEOUT="soon")
    _, stderr = supervisor.communicate(timeout=60)
    assert supervisor.returncode == 2
    assert "invalid setting TASK_TIMEOUT" in stderr


def test_a_port_in_use_is_refused_at_once() -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        supervisor = start(taken.getsockname()[1], workers=2)
        _, stderr = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 1
    assert "cannot listen on" in stderr


@pytest.mark.parametrize(("log_format", "expected"), [("json", "json"), ("text", "text")])
def test_the_supervisors_own_lines_follow_log_format(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], log_format: str, expected: str
) -> None:
    monkeypatch.setenv("LOG_FORMAT", log_format)
    prefork._say("2 processes on http://127.0.0.1:8000")
    line = capsys.readouterr().err.strip()
    if expected == "json":
        record = json.loads(line)
        assert (record["service"], record["message"]) == (
            "taskgate-api",
            "2 processes on http://127.0.0.1:8000",
        )
    else:
        assert line == "taskgate-api: 2 processes on http://127.0.0.1:8000"


def test_api_workers_is_read_from_dot_env_like_every_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("API_WORKERS=2\n")
    port = free_port()
    supervisor = start(port, workers=None, cwd=tmp_path)
    try:
        wait_serving(f"http://{HOST}:{port}", supervisor)
        assert len(children(supervisor.pid)) == 2
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.communicate(timeout=40)


@pytest.mark.parametrize(
    ("value", "reason"), [("two", "not a whole number: 'two'"), ("0", "must be at least 1, got 0")]
)
def test_a_wrong_api_workers_is_one_line_naming_it(tmp_path: Path, value: str, reason: str) -> None:
    supervisor = start(free_port(), workers=None, cwd=tmp_path, API_WORKERS=value)
    _, stderr = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 2
    assert stderr == f"invalid setting API_WORKERS: {reason}\n"


def test_the_supervisor_loads_no_web_framework_nor_settings_library(tmp_path: Path) -> None:
    """What `taskgate-api --workers N` runs before it starts its processes: the standard library, a few MB."""
    code = (
        "import sys; from taskgate_api.__main__ import _parser, _workers_setting; "
        "from taskgate_api.server.prefork import PreforkSupervisor; "
        "parser = _parser(); parser.parse_args(['--workers', '2']); _workers_setting(parser); "
        "heavy = {'pydantic', 'fastapi', 'starlette', 'uvicorn', 'celery', 'redis', 'rich', 'argcomplete'}; "
        "print(' '.join(sorted(name for name in sys.modules if name.partition('.')[0] in heavy)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        env=ENV,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert loaded.stdout.strip() == ""
