from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from taskgate_contracts import TaskSpec


class EchoArgs(BaseModel):
    text: str


class EchoResult(BaseModel):
    text: str


MakeSpec = Callable[..., TaskSpec[Any, Any]]


@pytest.fixture
def make_spec() -> MakeSpec:
    """A spec of a small `echo` type, with any field replaced."""

    def make(**fields: Any) -> TaskSpec[Any, Any]:
        values: dict[str, Any] = {"name": "echo", "args": EchoArgs, "result": EchoResult}
        values["description"] = "Say it back."
        return TaskSpec(**{**values, **fields})

    return make
