"""Every setting a taskgate process reads is in the README's settings table and in `.env.example`, with the
processes that read it, and neither names one that nothing reads: the lists are kept by hand, this keeps
them true."""

import re
from pathlib import Path

import yaml
from pydantic_settings import BaseSettings

from taskgate_api.__main__ import WORKERS_SETTING
from taskgate_api.config import ApiSettings
from taskgate_client.cli import API_KEY_VARIABLE, URL_VARIABLE
from taskgate_contracts import builtin
from taskgate_ops.config import OpsSettings
from taskgate_worker.config import WorkerSettings

ROOT = Path(__file__).resolve().parent.parent
#: The README's names for the processes in its "read by" column.
READERS = {"api": {"api"}, "worker": {"worker"}, "ops": {"ops"}, "`taskgate` CLI": {"taskgate"}}
READERS["all"] = READERS["api"] | READERS["worker"] | READERS["ops"]
_ROW = re.compile(r"^\| (`[A-Z_]+`(?: / `[A-Z_]+`)*) \| [^|]* \| ([^|]+) \|", re.MULTILINE)
_NAME = re.compile(r"`([A-Z_]+)`")


def fields(settings: type[BaseSettings]) -> set[str]:
    return {name.upper() for name in settings.model_fields}


def read_settings() -> dict[str, set[str]]:
    """Each variable a process reads, with the processes that read it."""
    readers: dict[str, set[str]] = {}
    services = {"api": fields(ApiSettings), "worker": fields(WorkerSettings), "ops": fields(OpsSettings)}
    # The built-in task types' settings are read wherever the types are: by the api and the worker; a
    # secret one (a SecretStr value, WEBHOOK_SECRETS) by the worker only, whose handler uses it.
    for spec in builtin.SPECS:
        if spec.settings is not None:
            for name, field in spec.settings.model_fields.items():
                secret = "SecretStr" in str(field.annotation)
                for reader in ("worker",) if secret else ("api", "worker"):
                    services[reader].add(name.upper())
    services["api"].add(WORKERS_SETTING)
    # Tracing is OpenTelemetry's own standard variables, read by its SDK in the api and the worker; the
    # README and .env.example name the one that turns it on (the others work as OpenTelemetry documents).
    for reader in ("api", "worker"):
        services[reader].add("OTEL_EXPORTER_OTLP_ENDPOINT")
    services["taskgate"] = {URL_VARIABLE, API_KEY_VARIABLE}
    for reader, names in services.items():
        for name in names:
            readers.setdefault(name, set()).add(reader)
    return readers


def readme_table() -> dict[str, set[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Settings") :]
    documented: dict[str, set[str]] = {}
    for names, read_by in _ROW.findall(table):
        processes = set().union(*(READERS[reader.strip()] for reader in read_by.split(",")))
        for name in _NAME.findall(names):
            documented[name] = processes
    return documented


def env_example() -> set[str]:
    """The variables `.env.example` sets or shows commented out."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def compose_only() -> set[str]:
    """What docker-compose.yml itself reads from `.env` and no process does (the address it publishes ports
    on, Grafana's password…): the variables it interpolates, and those its secrets are made of."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    secrets = yaml.safe_load(text)["secrets"].values()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text)) | {secret["environment"] for secret in secrets}
    return used - set(read_settings())


def test_the_readme_table_names_every_setting_and_who_reads_it() -> None:
    assert readme_table() == read_settings()


def test_env_example_shows_every_setting_and_only_those() -> None:
    assert env_example() == set(read_settings()) | compose_only()
