"""What the compatibility checker calls breaking, on small schemas and on the real contract."""

import copy
from typing import Any

import pytest

from release.schema_diff import Break, Contract, breaking_changes
from taskgate_contracts.schemas import export

Schema = dict[str, Any]


def model(properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


def diff(old: Schema, new: Schema) -> list[str]:
    return [str(found) for found in breaking_changes({"responses": {"M": old}}, {"responses": {"M": new}})]


NUMBER = {"type": "number"}
OPTIONAL_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            model({"a": NUMBER, "b": NUMBER}),
            model({"a": NUMBER, "c": NUMBER}),
            "responses.json M.b: field removed or renamed (new fields here: c)",
        ),
        (model({"a": NUMBER}), model({"a": NUMBER}, ("a",)), "responses.json M.a: field became required"),
        (model({}), model({"n": NUMBER}, ("n",)), "responses.json M.n: new required field"),
        (
            model({"a": NUMBER}),
            model({"a": {"type": "integer"}}),
            "responses.json M.a: no longer accepts number (accepts integer)",
        ),
        (
            model({"a": OPTIONAL_TEXT}),
            model({"a": {"type": "string"}}),
            "responses.json M.a: no longer accepts null (accepts string)",
        ),
        (
            model({"s": {"enum": ["x", "y"], "type": "string"}}),
            model({"s": {"enum": ["x"], "type": "string"}}),
            'responses.json M.s: no longer accepts "y" (accepts "x")',
        ),
        (
            model({"s": {"type": "string"}}),
            model({"s": {"const": "x", "type": "string"}}),
            'responses.json M.s: no longer accepts string (accepts "x")',
        ),
        (
            model({"a": {"type": "number", "minimum": 0}}),
            model({"a": {"type": "number", "exclusiveMinimum": 0}}),
            "responses.json M.a: lower bound narrowed from >= 0 to > 0",
        ),
        (
            model({"a": {"type": "number", "maximum": 100}}),
            model({"a": {"type": "number", "maximum": 50}}),
            "responses.json M.a: upper bound narrowed from <= 100 to <= 50",
        ),
        (
            model({"t": {"type": "string"}}),
            model({"t": {"type": "string", "maxLength": 8}}),
            "responses.json M.t: maxLength narrowed from None to 8",
        ),
        (
            model({"t": {"type": "string"}}),
            model({"t": {"type": "string", "format": "date-time"}}),
            "responses.json M.t: format changed from None to 'date-time'",
        ),
        (
            model({"l": {"type": "array", "items": NUMBER}}),
            model({"l": {"type": "array", "items": {"type": "string"}}}),
            "responses.json M.l[]: no longer accepts number (accepts string)",
        ),
        (
            model({}),
            model({}, additionalProperties=False),
            "responses.json M: no longer accepts fields it does not declare",
        ),
        (
            model({}, additionalProperties=False),
            model({"n": NUMBER}, additionalProperties=False),
            "responses.json M.n: new field that readers on the old contract refuse (they forbid extras)",
        ),
        (
            model({"d": {"type": "object", "additionalProperties": NUMBER}}),
            model({"d": {"type": "object", "additionalProperties": {"type": "integer"}}}),
            "responses.json M.d.*: no longer accepts number (accepts integer)",
        ),
    ],
)
def test_a_breaking_change_is_named_where_it_is(old: Schema, new: Schema, found: str) -> None:
    assert diff(old, new) == [found]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (model({"a": NUMBER}), model({"a": NUMBER, "b": NUMBER})),
        (model({"a": {"type": "integer"}}), model({"a": NUMBER})),
        (model({"a": {"type": "string"}}), model({"a": OPTIONAL_TEXT})),
        (
            model({"s": {"enum": ["x"], "type": "string"}}),
            model({"s": {"enum": ["x", "y"], "type": "string"}}),
        ),
        (model({"s": {"const": "x"}}), model({"s": {"type": "string"}})),
        (model({"a": {"type": "number", "maximum": 50}}), model({"a": {"type": "number", "maximum": 100}})),
        (model({"a": NUMBER}, ("a",)), model({"a": NUMBER})),
        (model({"a": NUMBER}), model({"a": {}})),
        (
            model({"a": {"type": "number", "title": "A", "default": 1}}),
            model({"a": {"type": "number", "default": 2}}),
        ),
    ],
)
def test_widening_and_cosmetic_changes_are_compatible(old: Schema, new: Schema) -> None:
    assert diff(old, new) == []


def test_references_are_followed_into_definitions() -> None:
    def with_state(values: list[str]) -> Schema:
        return {
            **model({"s": {"$ref": "#/$defs/State"}}),
            "$defs": {"State": {"enum": values, "type": "string"}},
        }

    assert diff(with_state(["a", "b"]), with_state(["a"])) == [
        'responses.json M.s: no longer accepts "b" (accepts "a")'
    ]


def test_a_recursive_model_is_compared_once() -> None:
    def tree(fields: dict[str, Schema]) -> Schema:
        children = {"type": "array", "items": {"$ref": "#/$defs/Node"}}
        return {**model({"children": children}), "$defs": {"Node": model({"children": children, **fields})}}

    assert diff(tree({"name": {"type": "string"}}), tree({})) == [
        "responses.json M.children[].name: field removed or renamed"
    ]


def test_removed_models_and_tasks_and_renamed_queues_are_breaking() -> None:
    old = export()
    new = copy.deepcopy(old)
    del new["responses"]["TaskView"]
    task = new["tasks"].pop("taskgate.process")
    new["tasks"]["taskgate.run"] = {**task, "queue": "jobs"}

    found = [str(change) for change in breaking_changes(old, new)]

    assert any(
        line.startswith("responses.json TaskView: model removed or renamed (models now: ") for line in found
    )
    assert (
        "tasks.json taskgate.process: task removed or renamed (tasks now: taskgate.run, taskgate.thumbnail)"
        in found
    )


def test_the_real_contract_is_compatible_with_itself() -> None:
    assert breaking_changes(export(), export()) == []


def real_contract_change(change: str) -> list[Break]:
    old: Contract = export()
    new = copy.deepcopy(old)
    task = new["tasks"]["taskgate.process"]
    if change == "queue":
        task["queue"] = "taskgate.v2"
    elif change == "argument":
        task["arguments"]["properties"]["priority"] = {"type": "integer", "default": 0}
    elif change == "rename":
        fields = task["arguments"]["properties"]
        fields["seconds"] = fields.pop("delay")
    return breaking_changes(old, new)


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ("queue", ["tasks.json taskgate.process: queue renamed from 'taskgate' to 'taskgate.v2'"]),
        (
            "argument",
            [
                "tasks.json taskgate.process arguments.priority: "
                "new field that readers on the old contract refuse (they forbid extras)"
            ],
        ),
        (
            "rename",
            [
                "tasks.json taskgate.process arguments.delay: "
                "field removed or renamed (new fields here: seconds)",
                "tasks.json taskgate.process arguments.seconds: "
                "new field that readers on the old contract refuse (they forbid extras)",
            ],
        ),
    ],
)
def test_changes_to_the_real_contract(change: str, found: list[str]) -> None:
    assert [str(change) for change in real_contract_change(change)] == found
