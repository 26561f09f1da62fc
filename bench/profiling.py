"""Where the api's time goes in a scenario: py-spy samples its processes while the scenario runs.

`python -m bench --only fanout --profile` records the api (its supervisor and every api process,
`--subprocesses`) at PROFILE_RATE samples a second without pausing it (`--nonblocking`), as folded
stacks in the service logs folder, and puts the summary in the run's JSON: the share of the samples each
function was running in itself (its own time), each module's, and the share each of taskgate's own
functions was on the stack for (its time with what it called). `python -m bench.profiling FILE`
prints the summary of a recorded file as a Markdown table.
"""

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from testkit.processes import Service

PROFILE_RATE = 100
#: What taskgate's own frames hold: the file's package.
OWN_CODE = "(taskgate_"
TOP = 15
_STOP_TIMEOUT = 60.0


def py_spy() -> str:
    path = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(path).exists():
        raise RuntimeError("py-spy is not installed: `pip install py-spy` (bench/requirements.txt has it)")
    return path


@contextmanager
def profiled(service: Service, output: Path) -> Iterator[None]:
    """Sample `service` and its children while inside; the folded stacks go to `output`."""
    command = [py_spy(), "record", "--pid", str(service.process.pid), "--subprocesses", "--nonblocking"]
    command += ["--rate", str(PROFILE_RATE), "--format", "raw", "--output", str(output)]
    with output.with_suffix(".log").open("wb") as log:
        recorder = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes what it sampled when interrupted
        recorder.wait(timeout=_STOP_TIMEOUT)


def summary(folded: Path, top: int = TOP) -> dict[str, Any]:
    """The functions and the modules that took the most samples themselves, as shares of all samples."""
    own: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        own[frames[-1]] += int(count)
        modules[_module(frames[-1])] += int(count)
        for frame in {frame for frame in frames if OWN_CODE in frame}:
            ours[frame] += int(count)
    total = sum(own.values()) or 1
    return {
        "samples": total,
        "functions": [[name, count / total] for name, count in own.most_common(top)],
        "modules": [[name, count / total] for name, count in modules.most_common(top)],
        "taskgate": [[name, count / total] for name, count in ours.most_common(top)],
    }


def _module(frame: str) -> str:
    """`name (path/to/file.py:12)` as the file's package-relative path: what owns the time."""
    _, _, place = frame.partition(" (")
    path = place.rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", "src/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path or frame


def markdown(profile: dict[str, Any]) -> str:
    lines = [f"{profile['samples']} samples.", "", "| own time | function |", "|---|---|"]
    lines += [f"| {share:.1%} | `{name}` |" for name, share in profile["functions"]]
    lines += ["", "| own time | module |", "|---|---|"]
    lines += [f"| {share:.1%} | `{name}` |" for name, share in profile["modules"]]
    lines += ["", "| on the stack | taskgate's function |", "|---|---|"]
    lines += [f"| {share:.1%} | `{name}` |" for name, share in profile["taskgate"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(summary(Path(sys.argv[1]))), end="")
