"""The profile's summary of py-spy's folded stacks, and the CPU meter's figures."""

from pathlib import Path

import pytest

from bench.cpu import CpuMeter
from bench.profiling import summary

_PROCESS = 'process 1:"python -m taskgate_api"'
_SERVE = "serve (taskgate_api/server/serving.py:114)"
FOLDED = "\n".join(
    [
        f"{_PROCESS};{_SERVE};stream (taskgate_api/http/routes/tasks.py:148);"
        "write (asyncio/streams.py:346) 6",
        f"{_PROCESS};{_SERVE};events_after (taskgate_api/engine/records.py:104);"
        "read (redis/asyncio/connection.py:1706) 3",
        'process 2:"python -m taskgate_api";run (asyncio/runners.py:118) 1',
    ]
)


def test_the_summary_shares_own_time_modules_and_taskgate_frames(tmp_path: Path) -> None:
    folded = tmp_path / "profile.txt"
    folded.write_text(FOLDED)
    profile = summary(folded)
    assert profile["samples"] == 10
    assert profile["functions"][0] == ["write (asyncio/streams.py:346)", 0.6]
    assert ["redis/asyncio/connection.py", 0.3] in profile["modules"]
    assert profile["taskgate"][0] == ["serve (taskgate_api/server/serving.py:114)", 0.9]
    assert ["events_after (taskgate_api/engine/records.py:104)", 0.3] in profile["taskgate"]


def test_the_meter_reports_the_generator_and_the_cores_without_services() -> None:
    with CpuMeter(None, []) as meter:
        sum(range(200_000))
    names = [figure.name for figure in meter.figures(answers=10, tasks=10)]
    assert names[0].startswith("load generator CPU")
    assert names[1].startswith("machine CPU busy")
    assert meter.used()["generator_s"] >= 0


def test_the_meter_refuses_to_read_a_scenario_it_did_not_surround() -> None:
    with pytest.raises(RuntimeError, match="entered and left"):
        CpuMeter(None, []).used()
