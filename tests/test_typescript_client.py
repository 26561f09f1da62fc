"""A client generated from the api's OpenAPI document works: openapi-typescript turns the document the
running api serves into TypeScript types, tsc type-checks a program written against them (and refuses the
misuses in tests/typescript/src/refused.ts), and Node runs it against the real api and worker: it submits
a job and follows it to its end, is refused a bad one, and cancels another."""

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from taskgate_contracts import COMPLETED_MESSAGE
from testkit.infrastructure import TaskKeys
from testkit.processes import Service

PROJECT = Path(__file__).parent / "typescript"
BIN = PROJECT / "node_modules" / ".bin"
#: Where the program imports the generated types from (ignored by git: made from the live document).
GENERATED = PROJECT / "src" / "generated" / "taskgate.ts"


def run(command: Sequence[str | Path], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed() -> None:
    """tests/typescript's packages, installed from its package-lock.json when they are not yet (or the lock
    changed since): `npm ci`, from npm's cache once it holds them."""
    for program in ("node", "npm"):
        assert shutil.which(program), f"{program} is not installed: apt-get install nodejs npm"
    marker = PROJECT / "node_modules" / ".package-lock.json"
    lock = PROJECT / "package-lock.json"
    if not marker.is_file() or marker.stat().st_mtime < lock.stat().st_mtime:
        run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"])


def test_a_program_on_the_generated_types_submits_follows_and_cancels(
    api: Service, task_keys: TaskKeys, installed: None
) -> None:
    run([BIN / "openapi-typescript", f"{api.url}/openapi.json", "--output", GENERATED])
    run([BIN / "tsc", "--noEmit", "--project", PROJECT])
    run([BIN / "tsc", "--project", PROJECT])  # the same program, checked again, written as JavaScript

    output = run(["node", PROJECT / "build" / "client.js"], env={**os.environ, "TASKGATE_URL": api.url})

    lines: list[dict[str, Any]] = [json.loads(line) for line in output.splitlines()]
    for line in lines:
        if "task_id" in line:
            task_keys.add(line["task_id"])
    # While a GET waits up to 5 s, the one-second job ends: no `waiting` line is promised either way.
    told = [line for line in lines if line["event"] != "waiting"]
    done, slow = told[0]["task_id"], told[3]["task_id"]
    assert told == [
        {"event": "submitted", "task_id": done, "status": "queued", "location": f"/tasks/{done}"},
        {
            "event": "finished",
            "task_id": done,
            "task": "process",
            "status": "completed",
            "message": COMPLETED_MESSAGE,
            "delay": 1,
        },
        {
            "event": "refused",
            "status": 422,
            "loc": ["body", "delay"],
            "msg": "Input should be greater than or equal to 0",
        },
        {"event": "submitted", "task_id": slow, "status": "queued", "location": f"/tasks/{slow}"},
        {"event": "cancel", "task_id": slow, "status": 202, "task_status": "cancelled"},
        {
            "event": "finished",
            "task_id": slow,
            "task": "process",
            "status": "cancelled",
            "message": None,
            "delay": None,
        },
    ]
