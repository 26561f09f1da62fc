"""The worker's settings, read from the environment and an optional `.env` file."""

import math
import os
from collections.abc import Mapping
from typing import Annotated, Any

from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from taskgate_contracts import Connections, TaskSpec, describe_settings_error
from taskgate_contracts.connections import secrets_dir
from taskgate_contracts.observability import Observability
from taskgate_contracts.tasks import environment as task_environment

#: Read from the working directory, as pydantic-settings reads it for the worker's own settings.
ENV_FILE = ".env"


class StartupError(Exception):
    """The worker cannot start as configured; the message is one line per problem, for the operator."""


class InvalidSettingsError(StartupError):
    """The environment holds values the worker cannot run with; one line per wrong setting."""


#: Comma-separated names, as a command line or a container's environment gives them.
Names = Annotated[tuple[str, ...], NoDecode]


class WorkerSettings(BaseSettings, Connections, Observability):
    # An empty variable (as a copied `.env.example` leaves it) means "use the default", not "invalid". A
    # setting neither sets may be a file in /run/secrets named like it (compose's `secrets:`).
    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_ignore_empty=True, extra="ignore", secrets_dir=secrets_dir()
    )

    worker_concurrency: int = Field(1, ge=1, description="Worker processes; 1 runs jobs strictly FIFO.")
    task_timeout: float = Field(
        30.0, gt=0, allow_inf_nan=False, description="Seconds the api waits; the default time limit."
    )
    task_time_limit: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Soft time limit of a task; default TASK_TIMEOUT."
    )
    task_time_limits: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict,
        description="Soft time limits of some task types, `name=seconds,name=seconds`; they win over "
        "the type's own limit and TASK_TIME_LIMIT.",
    )
    worker_tasks: Names = Field((), description="Task types to host, comma-separated; default all.")
    worker_queues: Names = Field((), description="Queues whose task types to host, comma-separated.")

    @field_validator("worker_tasks", "worker_queues", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        return _names(value) if isinstance(value, str) else value

    @field_validator("task_time_limits", mode="before")
    @classmethod
    def _parse_time_limits(cls, value: object) -> object:
        if isinstance(value, str):
            value = _time_limits(value)
        if isinstance(value, Mapping):
            for name, seconds in value.items():
                _check_seconds(name, seconds)
        return value

    @property
    def soft_time_limit(self) -> float:
        """The default soft time limit: TASK_TIME_LIMIT, else TASK_TIMEOUT."""
        return self.task_timeout if self.task_time_limit is None else self.task_time_limit

    def soft_time_limit_of(self, spec: TaskSpec[Any, Any]) -> float:
        """A task type's soft time limit: TASK_TIME_LIMITS names it, else its spec, else the default."""
        if spec.name in self.task_time_limits:
            return self.task_time_limits[spec.name]
        return self.soft_time_limit if spec.soft_time_limit is None else spec.soft_time_limit


def _names(text: str) -> tuple[str, ...]:
    """`a, b,c` as ("a", "b", "c"); empty items (a trailing comma) are dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _time_limits(text: str) -> dict[str, float]:
    limits: dict[str, float] = {}
    for entry in _names(text):
        name, seconds = _time_limit_entry(entry)
        if name in limits:
            raise PydanticCustomError("time_limits", "{name} is given twice", {"name": name})
        limits[name] = seconds
    return limits


def _time_limit_entry(entry: str) -> tuple[str, float]:
    name, sep, seconds = (part.strip() for part in entry.partition("="))
    if not (sep and name):
        raise PydanticCustomError("time_limits", "expected name=seconds, got '{entry}'", {"entry": entry})
    try:
        return name, float(seconds)
    except ValueError:
        raise PydanticCustomError(
            "time_limits",
            "{name}: '{seconds}' is not a number of seconds",
            {"name": name, "seconds": seconds},
        ) from None


def _check_seconds(name: object, seconds: object) -> None:
    if not (isinstance(seconds, int | float) and 0 < seconds < math.inf):
        raise PydanticCustomError(
            "time_limits", "{name}: the time limit must be a positive number of seconds", {"name": name}
        )


def load_settings(**overrides: Any) -> WorkerSettings:
    """The settings from the environment and `.env`; `overrides` (the command line's) win over both."""
    try:
        return WorkerSettings(**overrides)
    except ValidationError as exc:
        raise InvalidSettingsError(describe_settings_error(exc)) from None


def environment() -> dict[str, str]:
    """The variables task types read their settings from: `.env`, overlaid by the process environment."""
    return task_environment(dotenv_values(ENV_FILE), os.environ, secrets_dir())
