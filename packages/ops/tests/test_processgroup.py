"""The process group with dummy children: merged prefixed output, and nobody outlives anybody."""

import io
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

from taskgate_ops.processgroup import ProcessGroup, ProcessSpec


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def sleeper(pid_file: Path, spawn_child: bool = False, ignore_term: bool = False) -> list[str]:
    """A child that records its pid (and its own child's, to prove groups are stopped) and sleeps."""
    lines = ["import os, signal, subprocess, sys, time"]
    if ignore_term:
        lines.append("signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    lines.append("pids = [os.getpid()]")
    if spawn_child:
        lines.append(
            "pids.append(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']).pid)"
        )
    lines += [
        f"open({str(pid_file)!r}, 'w').write(' '.join(map(str, pids)))",
        "print('ready', flush=True)",
        "time.sleep(60)",
    ]
    return python("\n".join(lines))


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still has a pid; it is gone for our purpose.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def alive(pid: int) -> bool:
    """Still running a moment after the process group returned: a grandchild, reaped by init rather than by
    the process group, takes a few milliseconds to finish dying after its signal."""
    deadline = time.monotonic() + 3
    while running(pid):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.02)
    return False


def pids(pid_file: Path) -> list[int]:
    return [int(pid) for pid in pid_file.read_text().split()]


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)


def send_after(signum: int, files: list[Path]) -> threading.Thread:
    def later() -> None:
        for path in files:
            wait_for(path)
        os.kill(os.getpid(), signum)

    thread = threading.Thread(target=later)
    thread.start()
    return thread


def test_a_dying_child_stops_the_others_and_fails_the_run(tmp_path: Path) -> None:
    output = io.StringIO()
    long_runner = tmp_path / "long"
    specs = [
        ProcessSpec("long", sleeper(long_runner, spawn_child=True)),
        ProcessSpec("short", python("import time; time.sleep(0.5); print('bye'); raise SystemExit(3)")),
    ]
    assert ProcessGroup(specs, output, stop_grace=5).run() == 3
    assert not any(alive(pid) for pid in pids(long_runner))
    lines = output.getvalue().splitlines()
    assert "short        | bye" in lines
    assert "long         | ready" in lines
    assert "taskgate-ops | short exited with code 3; stopping the others" in lines


def test_a_child_ending_with_code_zero_still_fails_the_run(tmp_path: Path) -> None:
    specs = [ProcessSpec("long", sleeper(tmp_path / "long")), ProcessSpec("quick", python("pass"))]
    assert ProcessGroup(specs, io.StringIO(), stop_grace=5).run() == 1


def test_sigterm_stops_every_child_and_its_children_cleanly(tmp_path: Path) -> None:
    files = [tmp_path / "a", tmp_path / "b"]
    specs = [ProcessSpec(path.name, sleeper(path, spawn_child=True)) for path in files]
    signaller = send_after(signal.SIGTERM, files)
    output = io.StringIO()
    assert ProcessGroup(specs, output, stop_grace=5).run() == 0
    signaller.join()
    assert not any(alive(pid) for path in files for pid in pids(path))
    assert "taskgate-ops | stopping" in output.getvalue().splitlines()


def test_ctrl_c_stops_the_children_too(tmp_path: Path) -> None:
    pid_file = tmp_path / "child"
    signaller = send_after(signal.SIGINT, [pid_file])
    assert ProcessGroup([ProcessSpec("child", sleeper(pid_file))], io.StringIO(), stop_grace=5).run() == 0
    signaller.join()
    assert not any(alive(pid) for pid in pids(pid_file))


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    pid_file = tmp_path / "stubborn"
    signaller = send_after(signal.SIGTERM, [pid_file])
    output = io.StringIO()
    started = time.monotonic()
    assert (
        ProcessGroup(
            [ProcessSpec("stubborn", sleeper(pid_file, ignore_term=True))], output, stop_grace=1
        ).run()
        == 0
    )
    signaller.join()
    assert time.monotonic() - started < 10
    assert not any(alive(pid) for pid in pids(pid_file))
    assert "stubborn did not stop within 1 s; killing it" in output.getvalue()


def test_a_missing_program_is_reported_and_the_started_ones_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "first"
    output = io.StringIO()
    specs = [
        ProcessSpec("first", sleeper(pid_file)),
        ProcessSpec("ghost", [str(tmp_path / "no-such-program")]),
    ]
    assert ProcessGroup(specs, output, stop_grace=5).run() == 1
    assert "could not start ghost" in output.getvalue()
    started = re.search(r"started first \(pid (\d+)\)", output.getvalue())
    assert started is not None
    assert not alive(int(started.group(1)))
