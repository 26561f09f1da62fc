"""The models keep the seed's field names, values and messages, and the process task's arguments refuse
what is not a delay."""

import json
import math

import pytest
from pydantic import ValidationError

from taskgate_contracts import (
    COMPLETED_MESSAGE,
    PENDING_MESSAGE,
    CompletedResponse,
    PendingResponse,
    SubmittedResponse,
    TaskLinks,
    TaskState,
)
from taskgate_contracts.builtin.process import ProcessArgs


def test_seed_examples_round_trip() -> None:
    completed = CompletedResponse(result=COMPLETED_MESSAGE, time=2.51564884185791, task_id="t")
    assert json.loads(completed.model_dump_json()) == {
        "status": "completed",
        "result": "Запрос выполнен успешно",
        "time": 2.51564884185791,
        "task_id": "t",
    }
    pending = PendingResponse(time=30.13848066329956, task_id="t")
    assert pending.model_dump()["message"] == "Пока не можем обработать ваш запрос, попробуйте позже"
    assert pending.message == PENDING_MESSAGE
    assert pending.status == "pending"


@pytest.mark.parametrize("body", [{}, {"delay": 0}, {"delay": 2}, {"delay": 2.5}, {"delay": 3600}])
def test_valid_delays(body: dict[str, float]) -> None:
    assert ProcessArgs.model_validate(body).delay == body.get("delay", 0)


@pytest.mark.parametrize(
    "delay", [-1, -0.001, math.nan, math.inf, -math.inf, "2", True, None, [2], {"n": 2}, 10**400]
)
def test_invalid_delays(delay: object) -> None:
    with pytest.raises(ValidationError):
        ProcessArgs.model_validate({"delay": delay})


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ProcessArgs.model_validate({"delay": 1, "priority": 5})


def test_terminal_states() -> None:
    assert {state for state in TaskState if state.terminal} == {
        TaskState.COMPLETED,
        TaskState.FAILED,
        TaskState.CANCELLED,
    }


def test_links_point_at_the_task() -> None:
    submitted = SubmittedResponse(task_id="abc", links=TaskLinks.for_task("abc"))
    assert submitted.model_dump()["links"] == {
        "self": "/tasks/abc",
        "events": "/tasks/abc/events",
        "cancel": "/tasks/abc",
    }
    assert submitted.status is TaskState.QUEUED
