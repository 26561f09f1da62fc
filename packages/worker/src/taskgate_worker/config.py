"""The worker's settings, read from the environment and an optional `.env` file."""

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from taskgate_contracts import Connections, describe_settings_error


class WorkerSettings(BaseSettings, Connections):
    # An empty variable (as a copied `.env.example` leaves it) means "use the default", not "invalid".
    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    worker_concurrency: int = Field(1, ge=1, description="Worker processes; 1 runs jobs strictly FIFO.")
    task_timeout: float = Field(
        30.0, gt=0, allow_inf_nan=False, description="Seconds the api waits; the default time limit."
    )
    task_time_limit: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Soft time limit of a task; default TASK_TIMEOUT."
    )

    @property
    def soft_time_limit(self) -> float:
        return self.task_timeout if self.task_time_limit is None else self.task_time_limit


class InvalidSettingsError(Exception):
    """The environment holds values the worker cannot run with; one line per wrong setting."""


def load_settings() -> WorkerSettings:
    try:
        return WorkerSettings()
    except ValidationError as exc:
        raise InvalidSettingsError(describe_settings_error(exc)) from None
