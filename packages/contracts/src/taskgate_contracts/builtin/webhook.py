"""`webhook`: the delivery of a task's completion webhook, a task type of its own on its own queue.

A client that submits a task with a `callback_url` gets the task's view posted there once the task ends
(completed, failed or cancelled), signed per the Standard Webhooks spec with the secret of the API key it
submitted with. The delivery is a task of this type, sent by whoever records the task's terminal state
(the worker that ran it, or the api that cancelled it while it was queued), so it is queued, retried and
scaled like any other type's work and survives restarts. It is internal: no HTTP operation submits it.

Its message carries the task's id alone. The callback URL and the API key's name are in the task's record;
the secrets are the worker's setting (WEBHOOK_SECRETS) and never leave it.
"""

import base64
import binascii
import json
import uuid
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from taskgate_contracts.destinations import DestinationPolicy, parse_allowed_hosts
from taskgate_contracts.responses import WebhookState
from taskgate_contracts.tasks import RetryPolicy, TaskSettings, TaskSpec

#: The entry of WEBHOOK_SECRETS that signs the webhooks of tasks submitted without a named API key.
DEFAULT_SECRET = "default"  # noqa: S105 - the name of an entry, not a secret
_SECRET_PREFIX = "whsec_"  # noqa: S105 - how every Standard Webhooks secret begins
#: Standard Webhooks secrets are 24 to 64 random bytes.
_SECRET_BYTES = (24, 64)
#: Names the delivery tasks' ids.
_DELIVERY_NAMESPACE = uuid.UUID("0b7c3f52-6a1e-4a53-9d54-2a1f0c6e8d31")


class WebhookSettings(TaskSettings):
    webhook_allowed_hosts: str = Field(
        "",
        description="Where callback URLs may point: host names (`*.example.com`, `*`) or IP addresses and "
        "networks, each maybe with `:port`, comma-separated (WEBHOOK_ALLOWED_HOSTS). Private, loopback, "
        "link-local, multicast and reserved addresses only when an IP entry lists them.",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="The signing secret of each API key name, a JSON object of `whsec_…` secrets; the "
        f"`{DEFAULT_SECRET}` entry signs for tasks submitted without a named key (WEBHOOK_SECRETS).",
    )
    webhook_deadline: float = Field(
        3600.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds from its first attempt a webhook is tried for (WEBHOOK_DEADLINE).",
    )
    webhook_timeout: float = Field(
        10.0,
        gt=0,
        le=30,
        allow_inf_nan=False,
        description="Seconds one attempt may take, connecting included, at most 30 (WEBHOOK_TIMEOUT).",
    )

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _parse_hosts(cls, value: str) -> str:
        parse_allowed_hosts(value)  # raises ValueError naming the entry
        return value

    @field_validator("webhook_secrets", mode="before")
    @classmethod
    def _parse_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError('must be a JSON object: {"key name": "whsec_…"}') from None
        if not isinstance(value, dict):
            raise ValueError('must be a JSON object: {"key name": "whsec_…"}')
        for name, secret in value.items():
            _check_secret(name, secret.get_secret_value() if isinstance(secret, SecretStr) else secret)
        return value

    @property
    def policy(self) -> DestinationPolicy:
        return _policy(self.webhook_allowed_hosts)


@cache
def _policy(allowed_hosts: str) -> DestinationPolicy:
    return DestinationPolicy(parse_allowed_hosts(allowed_hosts))


def _check_secret(name: object, secret: object) -> None:
    """A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 bytes. The message names the key,
    never the secret."""
    problem = f"the secret of {name!r} must be `whsec_` followed by base64 of {_SECRET_BYTES[0]} to "
    problem += f"{_SECRET_BYTES[1]} random bytes"
    if not isinstance(secret, str) or not secret.startswith(_SECRET_PREFIX):
        raise ValueError(problem)
    try:
        raw = base64.b64decode(secret.removeprefix(_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(problem) from None
    if not _SECRET_BYTES[0] <= len(raw) <= _SECRET_BYTES[1]:
        raise ValueError(problem)


class WebhookArgs(BaseModel):
    """The task whose completion webhook to deliver."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"task_id": "6f1c2b0e-3f7a-4c55-9a65-0d1e2f3a4b5c"}]}
    )

    task_id: str = Field(min_length=1, max_length=64)


class WebhookResult(BaseModel):
    """How the delivery ended."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"state": "delivered", "status": 204, "attempts": 3}]}
    )

    state: WebhookState
    status: int | None = Field(None, description="The receiver's last HTTP status, if it answered.")
    attempts: int = Field(ge=0)


def delivery_id(task_id: str) -> str:
    """The id of the task that delivers a task's webhook: one per task, whoever sends it, so a message
    sent twice is one delivery (the worker runs a task id that has succeeded once)."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, task_id))


WEBHOOK = TaskSpec(
    name="webhook",
    args=WebhookArgs,
    result=WebhookResult,
    description="Post a finished task's view to its callback_url, signed (Standard Webhooks).",
    # One attempt is one HTTP request of at most WEBHOOK_TIMEOUT (30 s at most).
    soft_time_limit=40,
    # Exponential backoff with full jitter, as every type's; WEBHOOK_DEADLINE ends it sooner. The handler
    # schedules each retry itself, so the task's view can say when the next attempt is due.
    retry=RetryPolicy(attempts=100, backoff=1, backoff_max=300),
    settings=WebhookSettings,
    internal=True,
)
