"""How `taskgate-ops flower` runs Flower: its command line and environment, built from the settings.

Secrets (the broker URL, the management API URL, the basic-auth pairs) travel in the environment,
where Flower and Celery read them, and never on the command line, where `ps` would show them.
"""

import sys
from collections.abc import Mapping
from dataclasses import dataclass

from taskgate_ops.config import OpsSettings, SettingsError

#: Flower writes its state to FLOWER_DB this often (milliseconds), not only at a clean shutdown, so
#: a crash loses at most this much history.
STATE_SAVE_INTERVAL_MS = 60_000
_LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class FlowerLaunch:
    argv: list[str]
    env: dict[str, str]


def require_credentials(settings: OpsSettings) -> str:
    if settings.flower_basic_auth is None:
        raise SettingsError(
            "FLOWER_BASIC_AUTH is not set: Flower does not start without credentials (user:password); "
            "pass --insecure-dev to run it open on 127.0.0.1 for development"
        )
    return settings.flower_basic_auth.get_secret_value()


def flower_launch(
    settings: OpsSettings,
    port: int,
    address: str,
    insecure_dev: bool,
    environ: Mapping[str, str],
    log_level: str = "info",
) -> FlowerLaunch:
    """The `celery flower` process to run; refuses to build one without credentials unless `insecure_dev`."""
    env = dict(environ)
    env["CELERY_BROKER_URL"] = settings.broker_url
    env["FLOWER_BROKER_API"] = settings.management_api_url
    if insecure_dev:
        # Open to anyone who can reach it, so it listens on loopback only.
        address = _LOOPBACK
        env.pop("FLOWER_BASIC_AUTH", None)
        env["FLOWER_UNAUTHENTICATED_API"] = "true"
    else:
        env["FLOWER_BASIC_AUTH"] = require_credentials(settings)
    argv = [
        sys.executable,
        "-m",
        # `celery flower`, with Flower's log lines in LOG_FORMAT.
        "taskgate_ops.flowerprocess",
        "flower",
        f"--port={port}",
        f"--address={address}",
        "--persistent=True",
        f"--db={settings.flower_db}",
        f"--state_save_interval={STATE_SAVE_INTERVAL_MS}",
        f"--max_tasks={settings.flower_max_tasks}",
        f"--purge_offline_workers={settings.flower_purge_offline_workers}",
        f"--logging={log_level}",
    ]
    return FlowerLaunch(argv, env)
