"""Where the services find RabbitMQ and Redis: the environment variable names every service shares.

A plain pydantic model, so contracts needs no settings library: each service mixes it into its own
`BaseSettings` class, and the seed's variable names (`RABBITMQ_HOST`, `PORT_AMQP`, ...) work everywhere.
"""

from typing import Literal, NamedTuple, Self
from urllib.parse import quote

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator

#: Credentials RabbitMQ ships with; fine on a laptop, refused in production.
_DEVELOPMENT_PASSWORDS = frozenset({"", "guest", "changethis"})

QueueType = Literal["classic", "quorum"]
ExchangeType = Literal["direct", "topic"]


class BrokerNode(NamedTuple):
    """One RabbitMQ node a client may connect to."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


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
    rabbitmq_hosts: str = Field(
        "",
        description="The nodes of a RabbitMQ cluster, `host:port,host:port` (a node without a port has "
        "PORT_AMQP); clients connect to the first that answers and fail over to the others. Empty: "
        "RABBITMQ_HOST:PORT_AMQP alone.",
    )
    rabbitmq_queue_type: QueueType = Field(
        "classic",
        description="How task queues are declared: `classic`, or `quorum` (replicated on a cluster). "
        "A queue's type is fixed when it is created, so changing it means recreating the queues.",
    )
    rabbitmq_heartbeat: int = Field(
        60,
        ge=0,
        description="Seconds between AMQP heartbeats the api and workers ask for; a peer silent for two "
        "of them is taken for dead. 0 turns them off.",
    )
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"), description="Redis for results and progress."
    )
    result_expires: int = Field(86400, gt=0, description="Seconds results and task records are kept.")

    @field_validator("rabbitmq_hosts")
    @classmethod
    def _hosts_are_addresses(cls, value: str) -> str:
        for entry in _entries(value):
            _node(entry, default_port=1)
        return value

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Self:
        if self.environment == "production":
            if self.rabbitmq_default_pass.get_secret_value() in _DEVELOPMENT_PASSWORDS:
                raise ValueError("RABBITMQ_DEFAULT_PASS must be set to a real secret in production")
            if self.rabbitmq_default_user == "guest":
                raise ValueError("RABBITMQ_DEFAULT_USER must not be 'guest' in production")
        return self

    @property
    def broker_nodes(self) -> tuple[BrokerNode, ...]:
        """The nodes to connect to, in the order given: RABBITMQ_HOSTS, else RABBITMQ_HOST:PORT_AMQP."""
        nodes = (_node(entry, self.port_amqp) for entry in _entries(self.rabbitmq_hosts))
        return tuple(dict.fromkeys(nodes)) or (BrokerNode(self.rabbitmq_host, self.port_amqp),)

    @property
    def broker_urls(self) -> list[str]:
        """One AMQP URL per node, credentials and vhost included."""
        user = quote(self.rabbitmq_default_user, safe="")
        password = quote(self.rabbitmq_default_pass.get_secret_value(), safe="")
        vhost = quote(self.rabbitmq_vhost, safe="")
        return [f"amqp://{user}:{password}@{node}/{vhost}" for node in self.broker_nodes]

    @property
    def broker_url(self) -> str:
        """Every node's URL, `;`-separated: the failover form Celery and kombu take as one broker URL."""
        return ";".join(self.broker_urls)

    @property
    def broker_address(self) -> str:
        """The nodes' hosts and ports, for messages that must not carry the password."""
        return ",".join(map(str, self.broker_nodes))

    @property
    def management_urls(self) -> list[str]:
        """The management API of each node's host (PORT_WEB), each host once: any of them can answer."""
        hosts = dict.fromkeys(node.host for node in self.broker_nodes)
        return [f"http://{host}:{self.port_web}" for host in hosts]

    @property
    def management_url(self) -> str:
        return self.management_urls[0]

    @property
    def task_queue_arguments(self) -> dict[str, str]:
        return task_queue_arguments(self.rabbitmq_queue_type)

    @property
    def task_exchange_type(self) -> ExchangeType:
        return task_exchange_type(self.rabbitmq_queue_type)


def task_queue_arguments(queue_type: QueueType) -> dict[str, str]:
    """The x-arguments every declaration of a task queue carries, by whoever declares it first.

    RabbitMQ refuses (PRECONDITION_FAILED) a declaration whose arguments differ from the queue's, so the
    api, the workers and ops must all declare the same; and a queue's type can only be given at
    declaration, not by a policy. Everything else (limits, dead-lettering) comes from policies.
    """
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else {}


def task_exchange_type(queue_type: QueueType) -> ExchangeType:
    """The type of the exchange named after each task queue, which a worker's retries go through.

    On quorum queues Celery delays a retry's countdown in the broker (native delayed delivery), which
    routes through topic exchanges only; through a direct exchange the worker would hold the retry
    itself, and on a quorum queue that blocks one of its prefetch slots until the countdown ends, as
    quorum queues cannot raise a consumer's prefetch on the fly.
    """
    return "topic" if queue_type == "quorum" else "direct"


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",") if entry.strip()]


def _node(entry: str, default_port: int) -> BrokerNode:
    """`host:port` or `host` (which gets `default_port`); a ValueError names an entry that is neither."""
    host, colon, port = entry.rpartition(":")
    if not colon:
        host, port = entry, ""
    if not host or (colon and not (port.isdigit() and 0 < int(port) < 65536)):
        raise ValueError(f"expected host:port (comma-separated), got {entry!r}")
    return BrokerNode(host, int(port) if port else default_port)


def describe_settings_error(error: ValidationError) -> str:
    """One line per wrong setting, named as its environment variable, for a service refusing to start."""
    lines = []
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        lines.append(f"invalid setting {name}: {item['msg']}")
    return "\n".join(lines)
