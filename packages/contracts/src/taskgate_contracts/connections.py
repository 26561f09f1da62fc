"""Where the services find RabbitMQ and Redis: the environment variable names every service shares.

A plain pydantic model, so contracts needs no settings library: each service mixes it into its own
`BaseSettings` class, and the seed's variable names (`RABBITMQ_HOST`, `PORT_AMQP`, ...) work everywhere.
"""

from typing import Literal, Self
from urllib.parse import quote

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator

#: Credentials RabbitMQ ships with; fine on a laptop, refused in production.
_DEVELOPMENT_PASSWORDS = frozenset({"", "guest", "changethis"})


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
        SecretStr("redis://127.0.0.1:6379/0"), description="Redis for results and progress."
    )
    result_expires: int = Field(86400, gt=0, description="Seconds results and task records are kept.")

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


def describe_settings_error(error: ValidationError) -> str:
    """One line per wrong setting, named as its environment variable, for a service refusing to start."""
    lines = []
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        lines.append(f"invalid setting {name}: {item['msg']}")
    return "\n".join(lines)
