"""The connection settings every service shares, and the refusal of default secrets in production."""

import pytest
from pydantic import BaseModel, Field, ValidationError

from taskgate_contracts import BrokerNode, Connections, describe_settings_error


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
