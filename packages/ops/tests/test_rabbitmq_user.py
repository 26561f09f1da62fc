"""The script compose runs to create the application user, run against this machine's RabbitMQ node."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from taskgate_ops.management import ManagementApi, segment

SCRIPT = Path(__file__).resolve().parents[1] / "rabbitmq-user.sh"


@pytest.fixture
def user(management: ManagementApi, vhost: str) -> Iterator[str]:
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed here")
    management.put(f"/vhosts/{segment(vhost)}", {})
    name = f"taskgate-ops-test-{uuid4().hex[:12]}"
    yield name
    if management.get(f"/users/{segment(name)}") is not None:
        management.delete(f"/users/{segment(name)}")


@pytest.fixture
def node(management: ManagementApi) -> str:
    """The local node's name, as rabbitmqctl addresses it."""
    name: str = management.get("/overview")["node"]
    return name


def run_script(
    node: str, user: str, password: str, vhost: str, secrets: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The script with the password in the environment, or, given `secrets`, in a file there."""
    env = {
        **os.environ,
        "RABBITMQ_NODE": node,
        "RABBITMQ_DEFAULT_USER": user,
        "RABBITMQ_DEFAULT_PASS": password,
        "RABBITMQ_VHOST": vhost,
    }
    if secrets is not None:
        (secrets / "RABBITMQ_DEFAULT_PASS").write_text(password + "\n")
        env["RABBITMQ_DEFAULT_PASS"] = ""
        env["SECRETS_DIR"] = str(secrets)
    return subprocess.run(
        ["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_user_can_sign_in_with_its_permissions_and_a_rerun_changes_the_password(
    node: str, user: str, vhost: str, management: ManagementApi
) -> None:
    first = run_script(node, user, "first-password", vhost)
    assert first.returncode == 0, first.stderr
    second = run_script(node, user, "second-password", vhost)
    assert second.returncode == 0, second.stderr
    assert f"RabbitMQ user {user} is ready on vhost {vhost}" in second.stdout

    whoami = httpx.get(f"{management.url}/api/whoami", auth=(user, "second-password"))
    assert whoami.json() == {"name": user, "tags": ["management"]}
    assert httpx.get(f"{management.url}/api/whoami", auth=(user, "first-password")).status_code == 401
    (permissions,) = management.get(f"/users/{segment(user)}/permissions")
    assert (permissions["vhost"], permissions["configure"], permissions["write"], permissions["read"]) == (
        vhost,
        ".*",
        ".*",
        ".*",
    )


def test_a_missing_setting_is_named(node: str, user: str, vhost: str) -> None:
    result = run_script(node, user, "", vhost)
    assert result.returncode != 0
    assert "set RABBITMQ_DEFAULT_PASS, or write it to /run/secrets/RABBITMQ_DEFAULT_PASS" in result.stderr


def test_the_password_may_be_the_secret_file(
    node: str, user: str, vhost: str, management: ManagementApi, tmp_path: Path
) -> None:
    done = run_script(node, user, "from-a-file", vhost, secrets=tmp_path)
    assert done.returncode == 0, done.stderr

    whoami = httpx.get(f"{management.url}/api/whoami", auth=(user, "from-a-file"))
    assert whoami.json() == {"name": user, "tags": ["management"]}
