"""The connection settings every service shares, and the refusal of default secrets in production."""

from pathlib import Path

import pytest
from pydantic import BaseModel, Field, ValidationError

from taskgate_contracts import BrokerNode, Connections, describe_settings_error
from taskgate_contracts import connections as module
from taskgate_contracts.connections import secrets_dir, switched_master


def test_development_defaults_reach_a_local_broker() -> None:
    connections = Connections()
    assert connections.broker_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert connections.broker_address == "127.0.0.1:5672"
    assert connections.management_url == "http://127.0.0.1:15672"


def test_credentials_and_vhost_are_quoted() -> None:
    connections = Connections(
        rabbitmq_default_user="app", rabbitmq_default_pass="p@ss/word", rabbitmq_vhost="task gate"
    )
    assert connections.broker_url == "amqp://app:p%40ss%2Fword@127.0.0.1:5672/task%20gate"


@pytest.mark.parametrize(
    ("user", "password", "named"),
    [("guest", "guest", "RABBITMQ_DEFAULT_PASS"), ("guest", "a-real-secret", "RABBITMQ_DEFAULT_USER")],
)
def test_production_refuses_defaults(user: str, password: str, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Connections(environment="production", rabbitmq_default_user=user, rabbitmq_default_pass=password)


def test_secrets_are_not_printed() -> None:
    connections = Connections(rabbitmq_default_pass="hunter2", redis_url="redis://:hunter2@r:6379/0")
    assert "hunter2" not in repr(connections)


def test_wrong_settings_are_described_one_line_each() -> None:
    class Settings(BaseModel):
        task_timeout: float = Field(gt=0)
        port_amqp: int

    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({"task_timeout": -1, "port_amqp": "x"})
    assert describe_settings_error(caught.value).splitlines() == [
        "invalid setting TASK_TIMEOUT: Input should be greater than 0",
        "invalid setting PORT_AMQP: Input should be a valid integer, unable to parse string as an integer",
    ]


def test_redis_is_the_url_until_sentinels_are_named() -> None:
    connections = Connections(redis_url="redis://:hunter2@cache:6380/3")
    assert connections.redis_sentinel_nodes == []
    assert connections.redis_address == "cache:6380"


def test_sentinels_name_the_master() -> None:
    connections = Connections(redis_sentinels="s1:26379, s2:26380,", redis_sentinel_master="results")
    assert connections.redis_sentinel_nodes == [("s1", 26379), ("s2", 26380)]
    assert connections.redis_address == "master 'results' of sentinels s1:26379, s2:26380,"


@pytest.mark.parametrize("sentinels", ["s1", "s1:port", "s1:0", ":26379", "s1:26379,s2:70000"])
def test_a_sentinel_address_without_a_port_is_refused(sentinels: str) -> None:
    with pytest.raises(ValidationError, match="expected host:port"):
        Connections(redis_sentinels=sentinels)


def test_sentinels_reach_the_master_without_tls() -> None:
    with pytest.raises(ValidationError, match="REDIS_URL must be a redis:// URL") as refused:
        Connections(redis_sentinels="s1:26379", redis_url="rediss://cache:6380/0")
    assert describe_settings_error(refused.value).startswith("invalid setting REDIS_SENTINELS: ")


def test_the_sentinel_password_is_not_printed() -> None:
    assert "hunter2" not in repr(Connections(redis_sentinels="s1:26379", redis_sentinel_password="hunter2"))


@pytest.mark.parametrize(
    ("announcement", "expected"),
    [
        (b"taskgate 10.0.0.1 6379 10.0.0.2 6380", ("10.0.0.2", 6380)),
        ("taskgate redis-0.redis 6379 redis-1.redis 6379", ("redis-1.redis", 6379)),
        (b"another 10.0.0.1 6379 10.0.0.2 6380", None),
        (b"taskgate 10.0.0.1 6379", None),
    ],
)
def test_a_failover_announcement_names_the_new_master(
    announcement: bytes | str, expected: tuple[str, int] | None
) -> None:
    assert switched_master(announcement, "taskgate") == expected


def test_one_node_by_default_and_a_cluster_from_rabbitmq_hosts() -> None:
    assert Connections(port_amqp=5673).broker_nodes == (BrokerNode("127.0.0.1", 5673),)
    cluster = Connections(rabbitmq_hosts="r1:5672, r2 ,r3:5680,r1:5672", port_amqp=5673, port_web=15673)
    assert cluster.broker_nodes == (BrokerNode("r1", 5672), BrokerNode("r2", 5673), BrokerNode("r3", 5680))
    assert cluster.broker_address == "r1:5672,r2:5673,r3:5680"
    # Celery and kombu fail over through a `;`-separated list of URLs.
    assert cluster.broker_url == ";".join(cluster.broker_urls)
    assert cluster.broker_urls[1] == "amqp://guest:guest@r2:5673/%2F"
    assert cluster.management_urls == ["http://r1:15673", "http://r2:15673", "http://r3:15673"]
    assert cluster.management_url == "http://r1:15673"


@pytest.mark.parametrize("hosts", ["r1:x", ":5672", "r1:0", "r1:70000", "r1,r2:"])
def test_a_node_that_is_not_host_port_is_named(hosts: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Connections(rabbitmq_hosts=hosts)
    (line,) = describe_settings_error(caught.value).splitlines()
    assert line.startswith("invalid setting RABBITMQ_HOSTS: Value error, expected host:port")


def test_quorum_queues_are_declared_with_their_type_and_classic_ones_without_arguments() -> None:
    assert Connections().task_queue_arguments == {}
    assert Connections(rabbitmq_queue_type="quorum").task_queue_arguments == {"x-queue-type": "quorum"}
    with pytest.raises(ValidationError, match="rabbitmq_queue_type"):
        Connections(rabbitmq_queue_type="stream")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://redis:6379/0", "redis://:p%40ss%2Fw%3Ard@redis:6379/0"),
        ("redis://:old@redis:6379/2", "redis://:p%40ss%2Fw%3Ard@redis:6379/2"),
        ("redis://app:old@redis/1?socket_timeout=2", "redis://app:p%40ss%2Fw%3Ard@redis/1?socket_timeout=2"),
    ],
)
def test_redis_password_becomes_the_url_s_password(url: str, expected: str) -> None:
    connections = Connections(redis_url=url, redis_password="p@ss/w:rd")
    assert connections.redis_url.get_secret_value() == expected
    assert "p@ss" not in repr(connections)


def test_an_empty_redis_password_leaves_the_url_alone() -> None:
    connections = Connections(redis_url="redis://:inline@redis:6379/0", redis_password="")
    assert connections.redis_url.get_secret_value() == "redis://:inline@redis:6379/0"


def test_secrets_are_read_from_the_secrets_folder_only_where_there_is_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(module, "SECRETS_DIR", tmp_path / "absent")
    assert secrets_dir() is None
    monkeypatch.setattr(module, "SECRETS_DIR", tmp_path)
    assert secrets_dir() == tmp_path
