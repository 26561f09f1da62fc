"""schemathesis against the live api: generated requests find no 5xx and no answer off the schema."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.infrastructure import TaskKeys, temporary_vhost
from testkit.processes import Service, running, settings_env, start_api, start_worker, wait_ready

#: Short enough that hundreds of generated jobs pass quickly; a pending job is cancelled (ON_TIMEOUT).
FUZZ_TIMEOUT = 0.5
FUZZ_MAX_DELAY = 1
#: Which 5xx answers are documented outcomes rather than server errors.
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def fuzz_api(
    request: pytest.FixtureRequest, task_keys: TaskKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """An api and a worker of their own: hundreds of generated jobs, some retried for seconds (a web page
    that cannot be fetched), must not queue up in front of the other tests' jobs."""
    limits: dict[str, str | float] = {
        "task_timeout": FUZZ_TIMEOUT,
        "max_delay": FUZZ_MAX_DELAY,
        "result_expires": 120,
    }
    # The hooks give every callback_url this destination; with no secret, its deliveries fail at once.
    limits |= {"webhook_allowed_hosts": "hooks.example.com", "webhook_deadline": 1}
    folder = tmp_path_factory.mktemp("fuzz")
    with temporary_vhost() as vhost:
        env = settings_env(vhost, on_timeout="cancel", **limits)
        with (
            running(request.config, start_worker(settings_env(vhost, **limits), folder)) as worker,
            running(request.config, start_api("fuzz-api", env, folder)) as api,
        ):
            wait_ready(api, worker)
            yield api


def test_api_keeps_to_its_schema(fuzz_api: Service, tmp_path: Path) -> None:
    # Every check schemathesis has — no 5xx, documented status codes, headers and bodies that match the
    # schema, bad data refused, good data accepted — but `use_after_free`: DELETE cancels a task, and a
    # cancelled task stays readable on purpose.
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG),
        "run", f"{fuzz_api.url}/openapi.json",
        "--checks", "all", "--exclude-checks", "use_after_free",
        "--max-examples", "40", "--workers", "1", "--suppress-health-check", "all",
        "--seed", "20261124",
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
    assert " passed" in result.stdout
