"""The tests every task type should pass, for a plug-in's own test suite to run against itself.

    from taskgate_contracts.testing import TaskTypeTests
    from acme_tasks import REPORT

    class TestReport(TaskTypeTests):
        spec = REPORT

pytest collects the subclass (its name starts with `Test`) and runs each check below on the spec: that
the installed package declares it and its handler through the entry points the api and the worker read,
that its models carry examples the OpenAPI document can show, and that those examples survive the
trip a task's arguments and result make (JSON through RabbitMQ and Redis). No pytest import is needed:
the checks are plain assertions.
"""

from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel

from taskgate_contracts.operations import completed_model
from taskgate_contracts.registry import HANDLERS_GROUP, discover
from taskgate_contracts.tasks import TaskSpec


def _examples(model: type[BaseModel]) -> list[Any]:
    examples: list[Any] = model.model_json_schema().get("examples", [])
    return examples


class TaskTypeTests:
    """Subclass it, set `spec`, and name the subclass `Test…`."""

    spec: ClassVar[TaskSpec[Any, Any]]

    def test_the_spec_is_declared_through_the_taskgate_tasks_entry_points(self) -> None:
        registry = discover()
        assert self.spec.name in registry, f"no taskgate.tasks entry point declares {self.spec.name!r}"
        assert registry[self.spec.name] == self.spec

    def test_a_handler_is_declared_under_the_types_name(self) -> None:
        names = [entry_point.name for entry_point in entry_points(group=HANDLERS_GROUP)]
        assert names.count(self.spec.name) == 1, f"{HANDLERS_GROUP} entry points named {self.spec.name!r}"

    def test_the_args_and_the_result_carry_examples_that_are_valid(self) -> None:
        for model in (self.spec.args, self.spec.result):
            examples = _examples(model)
            assert examples, f"{model.__name__} has no example for the OpenAPI document"
            for example in examples:
                model.model_validate(example)

    def test_arguments_and_results_survive_the_trip_through_json(self) -> None:
        # The api sends arguments as JSON and the worker validates them again; the worker stores the
        # result as JSON and clients read it back: each must come out as it went in.
        for model in (self.spec.args, self.spec.result):
            for example in _examples(model):
                value = model.model_validate(example)
                assert model.model_validate_json(value.model_dump_json()) == value

    def test_the_run_operation_answers_with_the_result_model(self) -> None:
        for example in _examples(self.spec.result):
            answer = {"status": "completed", "result": example, "time": 0.1, "task_id": "t"}
            completed = completed_model(self.spec).model_validate(answer)
            assert completed.model_dump()["result"] == self.spec.result.model_validate(example).model_dump()
