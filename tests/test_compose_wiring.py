"""docker-compose.yml against the packages' settings classes: every setting a service reads reaches it from
`.env`, every secret as a file in /run/secrets (never in its environment), and each service is given the
time its shutdown takes. Static, like packages/ops/tests/test_compose.py; here because it needs the api's,
the worker's and ops' settings classes at once."""

import re
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import BaseModel
from pydantic_settings import BaseSettings

from taskgate_api.__main__ import WORKERS_SETTING
from taskgate_api.config import ApiSettings
from taskgate_api.server.prefork import STOP_GRACE_SECONDS
from taskgate_contracts import builtin
from taskgate_contracts.tasks import HARD_LIMIT_GRACE_SECONDS
from taskgate_ops.config import OpsSettings
from taskgate_worker.config import WorkerSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
#: Each service built from a taskgate package, and the settings class its package reads.
SETTINGS: dict[str, type[BaseSettings]] = {
    "api": ApiSettings,
    "worker": WorkerSettings,
    "flower": OpsSettings,
}
#: Settings compose has no use for, and why: it runs one Redis, without Sentinel, and one RabbitMQ node,
#: whose task queues its mounted definitions declare classic (deploy/k8s runs Sentinel and a cluster).
NOT_IN_COMPOSE = {
    "REDIS_SENTINELS",
    "REDIS_SENTINEL_MASTER",
    "REDIS_SENTINEL_PASSWORD",
    "RABBITMQ_HOSTS",
    "RABBITMQ_QUEUE_TYPE",
}
#: `${NAME}`, `${NAME:-default}` or `${NAME:?message}` in a compose value.
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): value for name, value in pairs}


def as_given(value: str) -> str:
    """A compose value as `docker compose up` would give it with `.env.example` copied to `.env`."""
    given = env_example()
    return _VARIABLE.sub(lambda found: given.get(found.group(1)) or found.group(2) or "", value)


def seconds(duration: str) -> float:
    """A compose duration (`1m30s`) in seconds."""
    parts = _DURATION.findall(duration)
    assert "".join(number + unit for number, unit in parts) == duration, f"not a duration: {duration!r}"
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def task_settings(secret: bool) -> set[str]:
    """The shipped task types' settings: the secret ones (SecretStr values: the worker's, whose handlers
    use them; the api has no use for them), or the others."""
    models = [spec.settings for spec in builtin.SPECS if spec.settings is not None]
    return {
        name.upper()
        for model in models
        for name, field in model.model_fields.items()
        if ("SecretStr" in str(field.annotation)) is secret
    }


def read_by(service: str) -> set[str]:
    """Every variable the service's package reads: its settings class's fields, the shipped task types'
    settings and OpenTelemetry's endpoint (api, worker; the secret ones the worker only), the supervisor's
    API_WORKERS (api)."""
    names = {name.upper() for name in SETTINGS[service].model_fields}
    if service in ("api", "worker"):
        names |= task_settings(secret=False)
        names.add("OTEL_EXPORTER_OTLP_ENDPOINT")
    if service == "worker":
        names |= task_settings(secret=True)
    if service == "api":
        names.add(WORKERS_SETTING)
    return names


def secret_settings(service: str) -> set[str]:
    """The settings the service's class holds as secrets (typed SecretStr, a list of them, or of models
    holding one, as API_KEYS's keys)."""
    fields = SETTINGS[service].model_fields.items()
    own = {name.upper() for name, field in fields if _holds_secret(field.annotation)}
    return own | task_settings(secret=True) if service == "worker" else own


def _holds_secret(annotation: object) -> bool:
    if "SecretStr" in str(annotation):
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return any(_holds_secret(field.annotation) for field in annotation.model_fields.values())
    return any(_holds_secret(argument) for argument in get_args(annotation))


def environment(service: str) -> dict[str, str]:
    return {name: str(value) for name, value in SERVICES[service].get("environment", {}).items()}


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_setting_a_service_reads_reaches_it(service: str) -> None:
    given = set(environment(service)) | set(SERVICES[service].get("secrets", []))
    missing = read_by(service) - NOT_IN_COMPOSE - given
    assert not missing, f"{service} reads {sorted(missing)}, which docker-compose.yml does not pass it"
    assert not (given - read_by(service)), f"{service} is given what it does not read"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_secrets_are_files_never_environment(service: str) -> None:
    env = environment(service)
    secrets = set(SERVICES[service].get("secrets", []))
    # REDIS_URL only says where Redis is: its password is the REDIS_PASSWORD secret.
    assert "@" not in env["REDIS_URL"]
    assert secret_settings(service) - NOT_IN_COMPOSE - {"REDIS_URL"} == secrets
    assert not secrets & set(env)


def test_every_secret_is_the_env_variable_of_its_name() -> None:
    declared = COMPOSE["secrets"]
    used = {name for service in SERVICES.values() for name in service.get("secrets", [])}
    assert set(declared) == used
    assert declared == {name: {"environment": name} for name in declared}
    assert set(declared) <= set(env_example())


def settings_of(service: str) -> BaseSettings:
    """The service's settings as compose gives them with `.env.example` (an empty value means the default,
    as in every package), secrets aside: they are files, and production refuses their placeholders."""
    model = SETTINGS[service]
    given = {name.lower(): as_given(value) for name, value in environment(service).items()}
    values: dict[str, Any] = {
        name: value for name, value in given.items() if value and name in model.model_fields
    }
    values.pop("environment")
    return model(_env_file=None, **values)


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_the_values_compose_gives_are_ones_the_services_accept(service: str) -> None:
    assert settings_of(service)


def test_the_api_is_given_the_time_its_processes_take_to_stop() -> None:
    assert seconds(as_given(SERVICES["api"]["stop_grace_period"])) > STOP_GRACE_SECONDS


def test_a_stopping_worker_may_finish_the_longest_job_it_hosts() -> None:
    worker = settings_of("worker")
    assert isinstance(worker, WorkerSettings)
    # The compose worker hosts every task type taskgate ships.
    longest = max(worker.soft_time_limit_of(spec) + HARD_LIMIT_GRACE_SECONDS for spec in builtin.SPECS)
    grace = SERVICES["worker"]["stop_grace_period"]
    assert grace == "${WORKER_STOP_GRACE_PERIOD:-60s}"
    assert seconds(as_given(grace)) > longest
