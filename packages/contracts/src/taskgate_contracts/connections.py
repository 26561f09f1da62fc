"""Where the services find RabbitMQ and Redis: the environment variable names every service shares.

A plain pydantic model, so contracts needs no settings library: each service mixes it into its own
`BaseSettings` class, and the seed's variable names (`RABBITMQ_HOST`, `PORT_AMQP`, ...) work everywhere.
"""

from pathlib import Path
from typing import Literal, NamedTuple, Self
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

QueueType = Literal["classic", "quorum"]
ExchangeType = Literal["direct", "topic"]


class BrokerNode(NamedTuple):
    """One RabbitMQ node a client may connect to."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


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

    @field_validator("rabbitmq_hosts")
    @classmethod
    def _hosts_are_addresses(cls, value: str) -> str:
        for entry in _entries(value):
            _node(entry, default_port=1)
        return value

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


def switched_master(announcement: bytes | str, master: str) -> tuple[str, int] | None:
    """The new address of `master` if a message of SENTINEL_SWITCH_CHANNEL announces its failover."""
    words = (announcement.decode() if isinstance(announcement, bytes) else announcement).split()
    if len(words) == 5 and words[0] == master and words[4].isdigit():
        return words[3], int(words[4])
    return None


def _sentinel_nodes(text: str) -> list[tuple[str, int]]:
    """Every sentinel's `host:port`: a sentinel has no usual port to assume, so each entry names one."""
    nodes: list[tuple[str, int]] = []
    for entry in _entries(text):
        if ":" not in entry:
            raise ValueError(f"expected host:port (comma-separated), got {entry!r}")
        nodes.append(_node(entry, default_port=0))
    return nodes


def describe_settings_error(error: ValidationError) -> str:
    """One line per wrong setting, named as its environment variable, for a service refusing to start."""
    lines = []
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        lines.append(f"invalid setting {name}: {item['msg']}")
    return "\n".join(lines)
