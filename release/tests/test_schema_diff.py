"""What the compatibility checker calls breaking, on small schemas and on the real contract: narrowing
what services read, widening what clients read, either for what both read."""

import copy
from typing import Any

import pytest

from release.schema_diff import Break, Contract, Readers, breaking_changes, schema_changes
from taskgate_contracts.schemas import export

Schema = dict[str, Any]


def model(properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


def diff(old: Schema, new: Schema, readers: Readers = Readers.SERVICES) -> list[str]:
    """The breaks of model M of the requests group (read by services), or of one `readers` read."""
    if readers is Readers.SERVICES:
        return [str(found) for found in breaking_changes({"requests": {"M": old}}, {"requests": {"M": new}})]
    return [str(found) for found in schema_changes(old, new, "M", readers)]


NUMBER = {"type": "number"}
OPTIONAL_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            model({"a": NUMBER, "b": NUMBER}),
            model({"a": NUMBER, "c": NUMBER}),
            "requests.json M.b: field removed or renamed (new fields here: c)",
        ),
        (model({"a": NUMBER}), model({"a": NUMBER}, ("a",)), "requests.json M.a: field became required"),
        (model({}), model({"n": NUMBER}, ("n",)), "requests.json M.n: new required field"),
        (
            model({"a": NUMBER}),
            model({"a": {"type": "integer"}}),
            "requests.json M.a: no longer accepts number (accepts integer)",
        ),
        (
            model({"a": OPTIONAL_TEXT}),
            model({"a": {"type": "string"}}),
            "requests.json M.a: no longer accepts null (accepts string)",
        ),
        (
            model({"s": {"enum": ["x", "y"], "type": "string"}}),
            model({"s": {"enum": ["x"], "type": "string"}}),
            'requests.json M.s: no longer accepts "y" (accepts "x")',
        ),
        (
            model({"s": {"type": "string"}}),
            model({"s": {"const": "x", "type": "string"}}),
            'requests.json M.s: no longer accepts string (accepts "x")',
        ),
        (
            model({"a": {"type": "number", "minimum": 0}}),
            model({"a": {"type": "number", "exclusiveMinimum": 0}}),
            "requests.json M.a: lower bound narrowed from >= 0 to > 0",
        ),
        (
            model({"a": {"type": "number", "maximum": 100}}),
            model({"a": {"type": "number", "maximum": 50}}),
            "requests.json M.a: upper bound narrowed from <= 100 to <= 50",
        ),
        (
            model({"t": {"type": "string"}}),
            model({"t": {"type": "string", "maxLength": 8}}),
            "requests.json M.t: maxLength narrowed from None to 8",
        ),
        (
            model({"t": {"type": "string"}}),
            model({"t": {"type": "string", "format": "date-time"}}),
            "requests.json M.t: format changed from None to 'date-time'",
        ),
        (
            model({"l": {"type": "array", "items": NUMBER}}),
            model({"l": {"type": "array", "items": {"type": "string"}}}),
            "requests.json M.l[]: no longer accepts number (accepts string)",
        ),
        (
            model({}),
            model({}, additionalProperties=False),
            "requests.json M: no longer accepts fields it does not declare",
        ),
        (
            model({}, additionalProperties=False),
            model({"n": NUMBER}, additionalProperties=False),
            "requests.json M.n: new field that readers on the old contract refuse (they forbid extras)",
        ),
        (
            model({"d": {"type": "object", "additionalProperties": NUMBER}}),
            model({"d": {"type": "object", "additionalProperties": {"type": "integer"}}}),
            "requests.json M.d.*: no longer accepts number (accepts integer)",
        ),
    ],
)
def test_narrowing_what_services_read_breaks_and_is_named_where_it_is(
    old: Schema, new: Schema, found: str
) -> None:
    assert diff(old, new) == [found]
    assert found.removeprefix("requests.json ") in diff(old, new, Readers.BOTH)


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
def test_widening_what_services_read_and_cosmetic_changes_are_compatible(old: Schema, new: Schema) -> None:
    assert diff(old, new) == []


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [
        (
            model({"result": {"type": "string"}}, ("result",)),
            model({"result": {}}, ("result",)),
            "M.result: may now be any value, which readers on the old contract refuse (they accept string)",
        ),
        (
            model({"a": {"type": "integer"}}),
            model({"a": NUMBER}),
            "M.a: may now be number, which readers on the old contract refuse (they accept integer)",
        ),
        (
            model({"a": {"type": "string"}}),
            model({"a": OPTIONAL_TEXT}),
            "M.a: may now be null, which readers on the old contract refuse (they accept string)",
        ),
        (
            model({"s": {"enum": ["x"], "type": "string"}}),
            model({"s": {"enum": ["x", "y"], "type": "string"}}),
            'M.s: may now be "y", which readers on the old contract refuse (they accept "x")',
        ),
        (
            model({"a": {"type": "number", "maximum": 50}}),
            model({"a": {"type": "number", "maximum": 100}}),
            "M.a: upper bound widened from <= 50 to <= 100",
        ),
        (
            model({"t": {"type": "string", "maxLength": 8}}),
            model({"t": {"type": "string"}}),
            "M.t: maxLength widened from 8 to None",
        ),
        (
            model({"t": {"type": "string", "format": "date-time"}}),
            model({"t": {"type": "string"}}),
            "M.t: format changed from 'date-time' to None",
        ),
        (
            model({"a": NUMBER}, ("a",)),
            model({"a": NUMBER}),
            "M.a: may now be left out, which readers on the old contract require",
        ),
        (
            model({"a": NUMBER, "b": NUMBER}),
            model({"a": NUMBER}),
            "M.b: field removed or renamed",
        ),
        (
            model({}, additionalProperties=False),
            model({"n": NUMBER}, additionalProperties=False),
            "M.n: new field that readers on the old contract refuse (they forbid extras)",
        ),
    ],
)
def test_widening_what_clients_read_breaks(old: Schema, new: Schema, found: str) -> None:
    assert diff(old, new, Readers.CLIENTS) == [found]
    assert found in diff(old, new, Readers.BOTH)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (model({"result": {}}), model({"result": {"type": "string"}})),
        (model({"a": OPTIONAL_TEXT}), model({"a": {"type": "string"}})),
        (model({"a": NUMBER}), model({"a": NUMBER}, ("a",))),
        (model({"a": NUMBER}), model({"a": NUMBER, "b": NUMBER})),
        (model({"a": {"type": "number", "maximum": 100}}), model({"a": {"type": "number", "maximum": 50}})),
    ],
)
def test_narrowing_what_clients_read_is_compatible(old: Schema, new: Schema) -> None:
    assert diff(old, new, Readers.CLIENTS) == []


def test_a_change_found_both_ways_is_named_once() -> None:
    old, new = model({"a": NUMBER, "b": NUMBER}), model({"a": NUMBER})
    assert diff(old, new, Readers.BOTH) == ["M.b: field removed or renamed"]


def test_references_are_followed_into_definitions() -> None:
    def with_state(values: list[str]) -> Schema:
        return {
            **model({"s": {"$ref": "#/$defs/State"}}),
            "$defs": {"State": {"enum": values, "type": "string"}},
        }

    assert diff(with_state(["a", "b"]), with_state(["a"])) == [
        'requests.json M.s: no longer accepts "b" (accepts "a")'
    ]


def test_a_recursive_model_is_compared_once() -> None:
    def tree(fields: dict[str, Schema]) -> Schema:
        children = {"type": "array", "items": {"$ref": "#/$defs/Node"}}
        return {**model({"children": children}), "$defs": {"Node": model({"children": children, **fields})}}

    assert diff(tree({"name": {"type": "string"}}), tree({})) == [
        "requests.json M.children[].name: field removed or renamed"
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
    now = ", ".join(sorted(new["tasks"]))
    assert f"tasks.json taskgate.process: task removed or renamed (tasks now: {now})" in found
    assert "taskgate.run" in now


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
    elif change == "answer widened":
        new["responses"]["CompletedResponse"]["properties"]["result"] = {"title": "Result"}
    elif change == "answer narrowed":
        new["responses"]["TaskView"]["properties"]["worker"] = {"type": "string"}
    elif change == "argument widened":
        task["arguments"]["properties"]["delay"].pop("minimum")
    elif change == "argument narrowed":
        task["arguments"]["properties"]["delay"]["maximum"] = 60
    elif change == "result widened":
        formats = new["tasks"]["taskgate.thumbnail"]["result"]["properties"]
        formats["format"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": "png"}
    elif change == "progress narrowed":
        task["progress"]["meta"]["properties"]["message"]["maxLength"] = 80
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
        (
            "answer widened",
            [
                "responses.json CompletedResponse.result: "
                "may now be any value, which readers on the old contract refuse (they accept string)"
            ],
        ),
        ("answer narrowed", []),
        ("argument widened", []),
        (
            "argument narrowed",
            ["tasks.json taskgate.process arguments.delay: upper bound narrowed from none to <= 60"],
        ),
        (
            "result widened",
            [
                "tasks.json taskgate.thumbnail result.format: may now be null, which readers on the old "
                "contract refuse (they accept string)"
            ],
        ),
        (
            "progress narrowed",
            ["tasks.json taskgate.process progress.message: maxLength narrowed from None to 80"],
        ),
    ],
)
def test_changes_to_the_real_contract(change: str, found: list[str]) -> None:
    assert [str(change) for change in real_contract_change(change)] == found
