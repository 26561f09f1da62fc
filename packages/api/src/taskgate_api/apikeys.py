"""API keys: who may call the api, in which role, within which limits (the API_KEYS setting).

Two forms are read. The named form is a JSON list, one object per key:

    [{"name": "reports", "key": "s3cret", "role": "client", "rate": 10, "in_flight": 100},
     {"name": "ops", "key": "0ther", "role": "admin"}]

`name` is what logs, traces and task records show (never the key), `role` is `client` (the default:
sees and cancels only the tasks it submitted) or `admin` (sees every task, reads and replays dead
letters), `rate` bounds its requests per second and `in_flight` its tasks queued or running; either
limit left out is no limit. The comma-separated form of earlier releases, `a,b`, still means what it
meant — every key may do everything — so each such key is an `admin` without limits, named by its place
in the list (`key-1`, `key-2`, …).
"""

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

Role = Literal["client", "admin"]
CLIENT: Role = "client"
ADMIN: Role = "admin"

#: What a key's name may be: it goes into log lines, span attributes and Redis key names.
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=_NAME)]
    secret: Annotated[SecretStr, Field(alias="key", min_length=1)]
    role: Role = CLIENT
    rate: Annotated[int | None, Field(ge=1, description="Requests per second.")] = None
    in_flight: Annotated[int | None, Field(ge=1, description="Tasks queued or running at once.")] = None


_NAMED = TypeAdapter(list[ApiKey])


def parse_keys(value: str) -> list[ApiKey]:
    """API_KEYS's value as keys; raises ValueError (naming what is wrong, never a key) when it is neither
    form."""
    text = value.strip()
    if text.startswith("["):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"the named form must be a JSON list: {exc.msg} at character {exc.pos}"
            ) from None
        try:
            keys = _NAMED.validate_python(raw)
        except ValidationError as error:
            # Its own words, never pydantic's rendering, which quotes the input: a key.
            raise ValueError(
                "; ".join(
                    f"key {'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                    for item in error.errors(include_url=False, include_input=False)
                )
            ) from None
        if len({key.name for key in keys}) != len(keys):
            raise ValueError("two API keys have the same name")
        _distinct_secrets([key.secret.get_secret_value() for key in keys])
        return keys
    secrets = [part.strip() for part in text.split(",") if part.strip()]
    _distinct_secrets(secrets)
    return [
        ApiKey(name=f"key-{place}", key=SecretStr(secret), role=ADMIN)  # type: ignore[call-arg]
        for place, secret in enumerate(secrets, start=1)
    ]


def _distinct_secrets(secrets: list[str]) -> None:
    if len(set(secrets)) != len(secrets):
        raise ValueError("the same key is listed twice")
