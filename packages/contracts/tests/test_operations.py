"""What a task type's HTTP operations are called and where they are: derived from its spec alone."""

import json
from collections.abc import Callable
from typing import Any

from taskgate_contracts import TaskSpec
from taskgate_contracts.builtin.process import PROCESS, ProcessResult
from taskgate_contracts.builtin.thumbnail import THUMBNAIL, ThumbnailResult
from taskgate_contracts.operations import (
    completed_model,
    run_operation_id,
    run_path,
    submit_operation_id,
    submit_path,
)

#: The `make_spec` fixture: a spec of a small echo type, any field replaced.
MakeSpec = Callable[..., TaskSpec[Any, Any]]


def test_paths_and_operation_ids(make_spec: MakeSpec) -> None:
    assert (submit_path(THUMBNAIL), run_path(THUMBNAIL)) == ("/submit/thumbnail", "/run/thumbnail")
    assert (submit_path("any"), run_path("any")) == ("/submit/any", "/run/any")
    spec = make_spec(name="acme.weekly-report")
    assert (submit_operation_id(spec), run_operation_id(spec)) == (
        "submit_acme_weekly_report",
        "run_acme_weekly_report",
    )


def test_the_completed_answer_carries_the_types_result_model(make_spec: MakeSpec) -> None:
    model = completed_model(THUMBNAIL)
    assert model.__name__ == "ThumbnailCompleted"
    assert completed_model(THUMBNAIL) is model
    answer = model.model_validate(
        {
            "status": "completed",
            "result": {"image": "iVBORw0KGgo=", "width": 2, "height": 1},
            "time": 1,
            "task_id": "t",
        }
    )
    assert isinstance(answer.result, ThumbnailResult)  # type: ignore[attr-defined]
    schema = model.model_json_schema()
    assert schema["properties"]["result"]["$ref"] == "#/$defs/ThumbnailResult"
    assert schema["examples"][0]["result"] == ThumbnailResult.model_json_schema()["examples"][0]
    assert completed_model(make_spec(name="acme.weekly-report")).__name__ == "AcmeWeeklyReportCompleted"


def test_a_process_answer_round_trips() -> None:
    body = {
        "status": "completed",
        "result": {"result": "Запрос выполнен успешно", "delay": 2.0},
        "time": 2.0,
        "task_id": "t",
    }
    answer = completed_model(PROCESS).model_validate_json(json.dumps(body))
    assert answer.result == ProcessResult(delay=2)  # type: ignore[attr-defined]
