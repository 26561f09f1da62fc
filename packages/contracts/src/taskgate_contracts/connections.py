"""Where the services find RabbitMQ and Redis: the environment variable names every service shares.

A plain pydantic model, so contracts needs no settings library: each service mixes it into its own
`BaseSettings` class, and the seed's variable names (`RABBITMQ_HOST`, `PORT_AMQP`, ...) work everywhere.
"""

from pathlib import Path
from typing import Literal, Self
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

#: The sentinels' channel announcing a failover: `<master name> <old ip> <old port> <new ip> <new port>`.
SENTINEL_SWITCH_CHANNEL = "+switch-master"

#: Credentials RabbitMQ ships with; fine on a laptop, refused in production.
_DEVELOPMENT_PASSWORDS = frozenset({"", "guest", "changethis"})

#: Where compose's `secrets:` (and a Kubernetes Secret mounted as a volume) put secrets, one file each: a
#: service reads any setting from the file named like it (`/run/secrets/RABBITMQ_DEFAULT_PASS`) when
#: neither the environment nor `.env` sets it, so a secret needs to be neither.
SECRETS_DIR = Path("/run/secrets")


def secrets_dir() -> Path | None:
    """SECRETS_DIR where there is one, for the services' settings to read files from; None elsewhere
    (pydantic-settings would warn of a missing folder at every start)."""
    return SECRETS_DIR if SECRETS_DIR.is_dir() else None


class Connections(BaseModel):
    environment: Literal["development", "production"] = Field(
        "development", description="`production` refuses default credentials."
    )
    rabbitmq_host: str = Field("127.0.0.1", description="RabbitMQ host.")
    port_amqp: int = Field(5672, gt=0, lt=65536, description="RabbitMQ AMQP port (brokers tasks).")
    port_web: int = Field(15672, gt=0, lt=65536, description="RabbitMQ management UI/API port.")
    rabbitmq_default_user: str = Field("guest", min_length=1, description="RabbitMQ user.")
    rabbitmq_default_pass: SecretStr = Field(SecretStr("guest"), description="RabbitMQ password.")
    rabbitmq_vhost: str = Field("/", min_length=1, description="RabbitMQ virtual host.")
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"),
        description="Redis for results and progress; with REDIS_SENTINELS, only its password and database.",
    )
    redis_password: SecretStr | None = Field(
        None,
        description="The Redis master's password, in place of REDIS_URL's: a secret of its own (a file in "
        "/run/secrets), and any characters, where a URL needs them escaped.",
    )
    # Read as text and parsed here: contracts has no settings library to split a list from the environment.
    redis_sentinels: str = Field(
        "",
        description="Redis Sentinel addresses, `host:port,host:port`: results and records then go to the "
        "master they name, wherever a failover moves it.",
    )
    redis_sentinel_master: str = Field(
        "taskgate", min_length=1, description="The name the sentinels monitor the Redis master under."
    )
    redis_sentinel_password: SecretStr | None = Field(
        None, description="The sentinels' own password, if they ask for one (the master's is REDIS_URL's)."
    )
    result_expires: int = Field(86400, gt=0, description="Seconds results and task records are kept.")

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_are_addresses(cls, value: str, info: ValidationInfo) -> str:
        _sentinel_nodes(value)
        url = info.data.get("redis_url")
        if value and isinstance(url, SecretStr) and urlsplit(url.get_secret_value()).scheme != "redis":
            raise ValueError("the master is reached without TLS: REDIS_URL must be a redis:// URL")
        return value

    @model_validator(mode="after")
    def _redis_password_in_the_url(self) -> Self:
        """REDIS_PASSWORD, when set, becomes REDIS_URL's password: every client connects with that URL."""
        if self.redis_password is not None and self.redis_password.get_secret_value():
            parts = urlsplit(self.redis_url.get_secret_value())
            user_info, _, address = parts.netloc.rpartition("@")
            user = user_info.partition(":")[0]
            password = quote(self.redis_password.get_secret_value(), safe="")
            url = urlunsplit(parts._replace(netloc=f"{user}:{password}@{address}"))
            self.redis_url = SecretStr(url)
        return self

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Self:
        if self.environment == "production":
            if self.rabbitmq_default_pass.get_secret_value() in _DEVELOPMENT_PASSWORDS:
                raise ValueError("RABBITMQ_DEFAULT_PASS must be set to a real secret in production")
            if self.rabbitmq_default_user == "guest":
                raise ValueError("RABBITMQ_DEFAULT_USER must not be 'guest' in production")
        return self

    @property
    def broker_url(self) -> str:
        user = quote(self.rabbitmq_default_user, safe="")
        password = quote(self.rabbitmq_default_pass.get_secret_value(), safe="")
        vhost = quote(self.rabbitmq_vhost, safe="")
        return f"amqp://{user}:{password}@{self.rabbitmq_host}:{self.port_amqp}/{vhost}"

    @property
    def broker_address(self) -> str:
        """Host and port, for messages that must not carry the password."""
        return f"{self.rabbitmq_host}:{self.port_amqp}"

    @property
    def management_url(self) -> str:
        return f"http://{self.rabbitmq_host}:{self.port_web}"

    @property
    def redis_sentinel_nodes(self) -> list[tuple[str, int]]:
        """The sentinels' (host, port) pairs; empty when Redis is reached at REDIS_URL itself."""
        return _sentinel_nodes(self.redis_sentinels)

    @property
    def redis_address(self) -> str:
        """Where Redis is, for messages that must not carry the password."""
        if self.redis_sentinels:
            return f"master {self.redis_sentinel_master!r} of sentinels {self.redis_sentinels}"
        parts = urlsplit(self.redis_url.get_secret_value())
        return f"{parts.hostname}:{parts.port or 6379}"


def switched_master(announcement: bytes | str, master: str) -> tuple[str, int] | None:
    """The new address of `master` if a message of SENTINEL_SWITCH_CHANNEL announces its failover."""
    words = (announcement.decode() if isinstance(announcement, bytes) else announcement).split()
    if len(words) == 5 and words[0] == master and words[4].isdigit():
        return words[3], int(words[4])
    return None


def _sentinel_nodes(text: str) -> list[tuple[str, int]]:
    nodes = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        host, _, port = entry.rpartition(":")
        if not (host and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"expected host:port, comma-separated; got {entry!r}")
        nodes.append((host, int(port)))
    return nodes


def describe_settings_error(error: ValidationError) -> str:
    """One line per wrong setting, named as its environment variable, for a service refusing to start."""
    lines = []
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        lines.append(f"invalid setting {name}: {item['msg']}")
    return "\n".join(lines)
