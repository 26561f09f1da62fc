"""A fresh virtual environment away from the source tree, the wheels under test installed in it, and the
end-to-end scenario run there against this machine's RabbitMQ and Redis.

pytest runs from a folder of its own with the repository only as its rootdir: the tests and their helpers
(`tests/`, `release/scenario/`) come from the repository, every `taskgate_*` module from the wheels —
`release/scenario/test_installed.py` checks that.
"""

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from release.project import ROOT, run

#: What the scenario itself needs beside the wheels.
SCENARIO_TOOLS = ("pytest>=8", "pytest-asyncio>=0.24", "httpx>=0.27", "redis>=5")
#: The seed's two examples as the end-to-end suite states them: delay 2 completes, a delay beyond
#: TASK_TIMEOUT answers pending.
SEED_SCENARIO = (
    "tests/test_seed_examples.py::test_delay_2_completes_in_about_2_seconds",
    "tests/test_seed_examples.py::test_beyond_task_timeout_answers_pending_and_the_task_still_completes",
)
#: Distribution name to the wheel file it must have been installed from, for test_installed.py.
EXPECTED_WHEELS = "TASKGATE_EXPECTED_WHEELS"


@dataclass(frozen=True)
class Trial:
    folder: Path

    @property
    def bin(self) -> Path:
        return self.folder / "venv" / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @classmethod
    def create(cls, folder: Path, requirements: Sequence[str | Path]) -> "Trial":
        """A new venv in `folder/venv` with `requirements` (wheel files among them) and the scenario tools."""
        trial = cls(folder)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        # The interpreter running this, so the venv's Python is the session's.
        run(["uv", "venv", "--quiet", "--python", sys.executable, trial.folder / "venv"])
        run(["uv", "pip", "install", "--quiet", "--python", trial.python, *requirements, *SCENARIO_TOOLS])
        return trial

    def environment(self) -> dict[str, str]:
        """This process's environment, with the venv first on PATH and nothing pointing into the source."""
        env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run_scenario(self, tests: Sequence[str], expected_wheels: dict[str, Path]) -> None:
        """pytest over `tests` (paths relative to the repository) in this venv; fails on any failure."""
        workdir = self.folder / "run"
        workdir.mkdir(exist_ok=True)
        env = self.environment()
        env[EXPECTED_WHEELS] = json.dumps({name: str(path) for name, path in expected_wheels.items()})
        config: list[str | Path] = [
            "--rootdir",
            ROOT,
            "-c",
            ROOT / "pyproject.toml",
            "-p",
            "no:cacheprovider",
        ]
        run(
            [self.python, "-m", "pytest", *config, *[f"{ROOT}/{test}" for test in tests]],
            cwd=workdir,
            env=env,
        )
