"""What `taskgate-ops` reads from the environment (and `.env`): the shared connections plus Flower's."""

from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from taskgate_contracts import Connections
from taskgate_contracts.connections import secrets_dir
from taskgate_contracts.observability import Observability

#: Placeholders that ship in `.env.example`; a production Flower refuses them like any missing secret.
_PLACEHOLDER_PASSWORDS = frozenset({"changethis", "change-me", "admin", "password"})


class SettingsError(Exception):
    """The environment holds a value ops cannot work with; the message is one line naming it."""


class OpsSettings(BaseSettings, Connections, Observability):
    # Empty variables (as a copied `.env.example` leaves them) mean "use the default". A setting neither
    # sets may be a file in /run/secrets named like it (compose's `secrets:`).
    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", secrets_dir=secrets_dir()
    )

    flower_basic_auth: SecretStr | None = Field(
        None, description="`user:password` (comma-separated for several) Flower asks browsers for."
    )
    flower_db: Path = Field(Path("var/flower.db"), description="File Flower keeps its task history in.")
    flower_max_tasks: int = Field(10_000, gt=0, description="Tasks Flower keeps in memory at most.")
    flower_purge_offline_workers: int = Field(
        300, gt=0, description="Seconds after which Flower forgets a worker that went offline."
    )
    taskgate_url: str = Field(
        "http://127.0.0.1:8000", description="Where `doctor` finds the api (the `taskgate` command's too)."
    )
    taskgate_flower_url: str = Field("http://127.0.0.1:5555", description="Where `doctor` finds Flower.")

    @field_validator("flower_basic_auth")
    @classmethod
    def _credentials_are_pairs(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            for pair in value.get_secret_value().split(","):
                user, _, password = pair.partition(":")
                if not user or not password:
                    raise ValueError("must be user:password (several separated by commas)")
        return value

    @model_validator(mode="after")
    def _no_placeholder_flower_password(self) -> Self:
        if self.environment == "production" and self.flower_basic_auth is not None:
            pairs = self.flower_basic_auth.get_secret_value().split(",")
            if any(pair.partition(":")[2] in _PLACEHOLDER_PASSWORDS for pair in pairs):
                raise ValueError("FLOWER_BASIC_AUTH must not use a placeholder password in production")
        return self

    @property
    def management_api_url(self) -> str:
        """The management API with credentials in it, the form Flower's `broker_api` takes. Flower takes
        one: the first node's (its broker page only; its events follow the broker URLs' failover)."""
        # A broker URL already carries the credentials, quoted for a URL.
        credentials = urlsplit(self.broker_urls[0]).netloc.rpartition("@")[0]
        management = urlsplit(self.management_url)
        return f"{management.scheme}://{credentials}@{management.netloc}/api/"


def load_settings() -> OpsSettings:
    try:
        return OpsSettings()
    except ValidationError as exc:
        raise SettingsError("; ".join(_describe(error) for error in exc.errors())) from None


def _describe(error: ErrorDetails) -> str:
    # A validator's own ValueError reads better than pydantic's "Value error, ..." wrapper around it.
    reason = error.get("ctx", {}).get("error", error["msg"])
    if not error["loc"]:
        return f"invalid settings: {reason}"
    return f"invalid setting {str(error['loc'][0]).upper()}: {reason}"
