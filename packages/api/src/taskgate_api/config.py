"""The api's settings, read from the environment (and `.env`)."""

import os
from typing import Annotated, Literal, Self

from dotenv import dotenv_values
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from taskgate_api.apikeys import ApiKey, parse_keys
from taskgate_api.environment import ENV_FILE
from taskgate_contracts import Connections
from taskgate_contracts.connections import secrets_dir
from taskgate_contracts.observability import Observability
from taskgate_contracts.tasks import environment as task_environment


def environment() -> dict[str, str]:
    """The variables the task types' settings are read from: `.env`, overridden by the environment."""
    return task_environment(dotenv_values(ENV_FILE), os.environ, secrets_dir())


class ApiSettings(BaseSettings, Connections, Observability):
    # An empty variable (as a copied `.env.example` leaves it) means "use the default", as everywhere. A
    # setting neither sets may be a file in /run/secrets named like it (compose's `secrets:`).
    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_ignore_empty=True, extra="ignore", secrets_dir=secrets_dir()
    )

    task_timeout: float = Field(
        30.0, gt=0, description="Seconds POST /process waits for the outcome before answering pending."
    )
    on_timeout: Literal["keep", "cancel"] = Field(
        "keep", description="What happens to a task POST /process stops waiting for: keep running, or cancel."
    )
    sse_heartbeat: float = Field(15.0, gt=0, description="Seconds between heartbeats on event streams.")
    api_keys: Annotated[list[ApiKey], NoDecode] = Field(
        default_factory=list,
        description="If set, routes but /healthz need `Authorization: Bearer <key>`: a JSON list of named "
        "keys with a role and limits, or comma-separated keys (each an admin without limits); see apikeys.",
    )
    tombstone_expires: int | None = Field(
        None,
        gt=0,
        description="Seconds after its submission an expired task still answers 410 rather than 404 "
        "(default: 7 × RESULT_EXPIRES); more than RESULT_EXPIRES.",
    )
    max_body_bytes: int = Field(
        1_048_576, gt=0, description="Larger request bodies are refused with 413 (a thumbnail's image fits)."
    )
    publish_timeout: float = Field(
        3.0, gt=0, description="Seconds to reach RabbitMQ before answering 503 (connect and retries)."
    )
    redis_timeout: float = Field(2.0, gt=0, description="Seconds a Redis command may take before 503.")
    readiness_requires_worker: bool = Field(
        True,
        description="Whether /readyz needs a worker to answer; false where workers scale from zero on "
        "queue depth, which an unready api would never fill.",
    )
    submit_concurrency: int = Field(
        32, gt=0, description="Submissions one api process sends to Redis and RabbitMQ at once; more wait."
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _read_keys(cls, value: object) -> object:
        return parse_keys(value) if isinstance(value, str) else value

    @property
    def tombstone_seconds(self) -> int:
        return self.tombstone_expires or 7 * self.result_expires

    @property
    def history_seconds(self) -> int:
        """How long a task stays in the history index at most: the life of its record, which each write
        renews, bounded at twice RESULT_EXPIRES after its submission."""
        return 2 * self.result_expires

    @model_validator(mode="after")
    def _timeouts_fit(self) -> Self:
        if self.task_timeout > self.result_expires:
            raise ValueError("TASK_TIMEOUT must not exceed RESULT_EXPIRES")
        if self.tombstone_expires is not None and self.tombstone_expires <= self.result_expires:
            raise ValueError("TOMBSTONE_EXPIRES must exceed RESULT_EXPIRES")
        return self
