"""The connection settings every service shares, and the refusal of default secrets in production."""

import pytest
from pydantic import BaseModel, Field, ValidationError

from taskgate_contracts import Connections, describe_settings_error


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
