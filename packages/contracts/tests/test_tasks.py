"""A task type's spec: what it requires of its name and fields, what it derives, and its settings."""

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from taskgate_contracts import RetryPolicy, TaskSettings, TaskSpec, TransientError, settings_in
from taskgate_contracts.builtin.process import PROCESS, ProcessArgs, ProcessResult, ProcessSettings
from taskgate_contracts.builtin.thumbnail import THUMBNAIL
from taskgate_contracts.tasks import load_settings, type_name

#: The `make_spec` fixture: a spec of a small echo type, any field replaced.
MakeSpec = Callable[..., TaskSpec[Any, Any]]


def test_the_celery_name_and_the_default_queue_come_from_the_name(make_spec: MakeSpec) -> None:
    spec = make_spec(name="acme.weekly-report")
    assert spec.task_name == "taskgate.acme.weekly-report"
    assert spec.queue == "taskgate.acme.weekly-report"
    assert make_spec(queue="shared").queue == "shared"
    assert type_name(spec.task_name) == "acme.weekly-report"
    assert type_name("celery.backend_cleanup") is None


def test_process_keeps_the_name_and_queue_every_release_has_used() -> None:
    assert (PROCESS.task_name, PROCESS.queue) == ("taskgate.process", "taskgate")
    assert (PROCESS.args, PROCESS.result) == (ProcessArgs, ProcessResult)
    assert ProcessResult(delay=2).result == "Запрос выполнен успешно"
    assert THUMBNAIL.queue == "taskgate.thumbnail"


@pytest.mark.parametrize("name", ["", "Echo", "1echo", "echo..x", "echo.", "ec ho", "échо", "x" * 65, "a/b"])
def test_a_name_that_cannot_be_a_path_segment_label_and_task_name_is_refused(
    make_spec: MakeSpec, name: str
) -> None:
    with pytest.raises(ValueError, match="task type name"):
        make_spec(name=name)


@pytest.mark.parametrize("description", ["", "  ", "two\nlines"])
def test_a_spec_needs_a_one_line_description(make_spec: MakeSpec, description: str) -> None:
    with pytest.raises(ValueError, match="one-line description"):
        make_spec(description=description)


@pytest.mark.parametrize("limit", [0, -1, float("inf"), float("nan")])
def test_a_time_limit_is_a_positive_number_of_seconds(make_spec: MakeSpec, limit: float) -> None:
    with pytest.raises(ValueError, match="soft_time_limit"):
        make_spec(soft_time_limit=limit)


def test_a_retry_policy_always_counts_a_transient_error_as_transient() -> None:
    policy = RetryPolicy(attempts=3, transient=(ConnectionError,))
    assert policy.transient == (TransientError, ConnectionError)
    assert policy.retries == 2
    assert RetryPolicy().retries == 0
    assert RetryPolicy(transient=(TransientError,)).transient == (TransientError,)


@pytest.mark.parametrize(("attempts", "backoff", "backoff_max"), [(0, 1, 1), (2, 0, 1), (2, 5, 4)])
def test_a_retry_policy_refuses_what_cannot_run(attempts: int, backoff: int, backoff_max: int) -> None:
    with pytest.raises(ValueError, match=r"retry policy|backoff"):
        RetryPolicy(attempts=attempts, backoff=backoff, backoff_max=backoff_max)


class LimitSettings(TaskSettings):
    echo_max_length: int = Field(10, gt=0)


class LimitedArgs(BaseModel):
    text: str

    @field_validator("text")
    @classmethod
    def _short_enough(cls, text: str, info: ValidationInfo) -> str:
        if len(text) > settings_in(info, LimitSettings).echo_max_length:
            raise ValueError("too long")
        return text


def test_validators_find_the_deployments_settings_in_the_context_else_the_defaults(
    make_spec: MakeSpec,
) -> None:
    spec = make_spec(args=LimitedArgs, settings=LimitSettings)
    settings = load_settings(LimitSettings, {"ECHO_MAX_LENGTH": "3", "OTHER": "x"})
    assert settings == LimitSettings(echo_max_length=3)
    with pytest.raises(ValidationError, match="too long"):
        LimitedArgs.model_validate({"text": "four"}, context=spec.context(settings))
    assert LimitedArgs.model_validate({"text": "four"}).text == "four"  # defaults: 10
    assert spec.context(None) == {}


def test_settings_are_read_in_any_case_an_empty_value_is_unset_and_a_wrong_one_is_named() -> None:
    assert load_settings(LimitSettings, {"echo_max_length": "4"}).echo_max_length == 4
    assert load_settings(LimitSettings, {"ECHO_MAX_LENGTH": ""}).echo_max_length == 10
    with pytest.raises(ValidationError) as refused:
        load_settings(LimitSettings, {"ECHO_MAX_LENGTH": "-1"})
    assert refused.value.errors()[0]["loc"] == ("echo_max_length",)


def test_max_delay_is_the_process_types_own_setting() -> None:
    context = PROCESS.context(ProcessSettings(max_delay=60))
    assert ProcessArgs.model_validate({"delay": 60}, context=context).delay == 60
    with pytest.raises(ValidationError) as refused:
        ProcessArgs.model_validate({"delay": 60.5}, context=context)
    (error,) = refused.value.errors()
    assert (error["type"], error["msg"]) == (
        "less_than_equal",
        "Input should be less than or equal to 60 (MAX_DELAY)",
    )
    assert ProcessArgs.model_validate({"delay": 3600}).delay == 3600  # the default MAX_DELAY
    with pytest.raises(ValidationError):
        ProcessArgs.model_validate({"delay": 3600.5})
