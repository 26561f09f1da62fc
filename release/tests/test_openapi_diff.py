"""What the OpenAPI checker calls breaking, on small documents and on the api's own: whatever a client
generated from the old document relies on — operations, parameters, bodies, status codes, headers —
removed, or a type changed under it (requests narrowed, answers widened)."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from release.openapi_diff import breaking_changes
from taskgate_api.openapi import canonical_document

Document = dict[str, Any]
REF = "#/components/schemas/"


def answer(model: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": {"$ref": REF + model}}}, "description": "."}
    return {**body, "headers": headers} if headers else body


def document() -> Document:
    """One operation: a body, a query parameter, two answers (one with a header), two models."""
    return {
        "openapi": "3.1.0",
        "paths": {
            "/jobs": {
                "post": {
                    "operationId": "submit_job",
                    "parameters": [
                        {"in": "query", "name": "wait", "required": False, "schema": {"type": "number"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": REF + "Job"}}},
                    },
                    "responses": {
                        "202": answer(
                            "Submitted",
                            {"Location": {"required": True, "schema": {"type": "string"}}},
                        ),
                        "422": answer("Submitted"),
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Job": {
                    "type": "object",
                    "properties": {"delay": {"type": "number", "minimum": 0, "maximum": 60}},
                    "required": ["delay"],
                },
                "Submitted": {
                    "type": "object",
                    "properties": {
                        "task_id": {"type": "string"},
                        "status": {"type": "string", "enum": ["queued", "running"]},
                    },
                    "required": ["task_id", "status"],
                },
            }
        },
    }


Change = Callable[[Document], None]


def operation(doc: Document) -> Document:
    found: Document = doc["paths"]["/jobs"]["post"]
    return found


def models(doc: Document) -> Document:
    found: Document = doc["components"]["schemas"]
    return found


CASES: list[tuple[str, Change, list[str]]] = [
    ("a path removed", lambda d: d["paths"].pop("/jobs"), ["/jobs: path removed or renamed"]),
    (
        "an operation removed",
        lambda d: d["paths"]["/jobs"].update(get=d["paths"]["/jobs"].pop("post")),
        ["POST /jobs: operation removed"],
    ),
    (
        "an operationId renamed",
        lambda d: operation(d).update(operationId="create_job"),
        ["POST /jobs: operationId renamed from 'submit_job' to 'create_job'"],
    ),
    (
        "a status code removed",
        lambda d: operation(d)["responses"].pop("422"),
        ["POST /jobs 422: status code removed"],
    ),
    (
        "a header removed",
        lambda d: operation(d)["responses"]["202"].pop("headers"),
        ["POST /jobs 202 header Location: header removed"],
    ),
    (
        "a header no longer always sent",
        lambda d: operation(d)["responses"]["202"]["headers"]["Location"].update(required=False),
        ["POST /jobs 202 header Location: may now be left out, which clients on the old document require"],
    ),
    (
        "a header's type widened",
        lambda d: operation(d)["responses"]["202"]["headers"]["Location"].update(
            schema={"type": ["string", "null"]}
        ),
        [
            "POST /jobs 202 header Location: may now be null, which readers on the old contract refuse "
            "(they accept string)"
        ],
    ),
    (
        "a content type removed",
        lambda d: operation(d)["responses"]["202"].update(content={"text/plain": {}}),
        ["POST /jobs 202: content type application/json removed"],
    ),
    (
        "an answer's field removed",
        lambda d: models(d)["Submitted"]["properties"].pop("status"),
        [
            "POST /jobs 202 application/json.status: field removed or renamed",
            "POST /jobs 422 application/json.status: field removed or renamed",
        ],
    ),
    (
        "an answer's enum widened",
        lambda d: models(d)["Submitted"]["properties"]["status"]["enum"].append("dead"),
        [
            f'POST /jobs {status} application/json.status: may now be "dead", which readers on the old '
            'contract refuse (they accept "queued" or "running")'
            for status in ("202", "422")
        ],
    ),
    (
        "an answer's field no longer always there",
        lambda d: models(d)["Submitted"].update(required=["task_id"]),
        [
            f"POST /jobs {status} application/json.status: may now be left out, which readers on the old "
            "contract require"
            for status in ("202", "422")
        ],
    ),
    (
        "a request field's bound narrowed",
        lambda d: models(d)["Job"]["properties"]["delay"].update(maximum=30),
        ["POST /jobs request body application/json.delay: upper bound narrowed from <= 60 to <= 30"],
    ),
    (
        "a request field renamed",
        lambda d: models(d)["Job"].update(properties={"seconds": {"type": "number"}}, required=["seconds"]),
        [
            "POST /jobs request body application/json.delay: field removed or renamed (new fields here: "
            "seconds)",
            "POST /jobs request body application/json.seconds: new required field",
        ],
    ),
    (
        "the request body removed",
        lambda d: operation(d).pop("requestBody"),
        ["POST /jobs request body: request body removed"],
    ),
    (
        "a parameter removed",
        lambda d: operation(d).update(parameters=[]),
        ["POST /jobs query parameter wait: parameter removed or renamed"],
    ),
    (
        "a parameter became required",
        lambda d: operation(d)["parameters"][0].update(required=True),
        ["POST /jobs query parameter wait: parameter became required"],
    ),
    (
        "a parameter's type narrowed",
        lambda d: operation(d)["parameters"][0].update(schema={"type": "integer"}),
        ["POST /jobs query parameter wait: no longer accepts number (accepts integer)"],
    ),
    (
        "a new required parameter",
        lambda d: operation(d)["parameters"].append(
            {"in": "header", "name": "X-Tenant", "required": True, "schema": {"type": "string"}}
        ),
        ["POST /jobs header parameter X-Tenant: new required parameter"],
    ),
]


@pytest.mark.parametrize(("change", "found"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_breaking_change_is_named(change: Change, found: list[str]) -> None:
    new = document()
    change(new)

    assert [str(item) for item in breaking_changes(document(), new)] == found


ADDITIONS: list[tuple[str, Change]] = [
    ("an operation", lambda d: d["paths"].update({"/jobs/{id}": {"get": {"operationId": "get_job"}}})),
    ("a status code", lambda d: operation(d)["responses"].update({"429": answer("Submitted")})),
    ("an optional parameter", lambda d: operation(d)["parameters"].append({"in": "query", "name": "q"})),
    ("an answer's field", lambda d: models(d)["Submitted"]["properties"].update(at={"type": "string"})),
    ("an optional request field", lambda d: models(d)["Job"]["properties"].update(note={"type": "string"})),
    ("a request bound loosened", lambda d: models(d)["Job"]["properties"]["delay"].update(maximum=3600)),
    ("a header", lambda d: operation(d)["responses"]["422"].update(headers={"X-Why": {"schema": {}}})),
    ("a description", lambda d: operation(d).update(description="Queue a job.")),
]


@pytest.mark.parametrize("change", [case[1] for case in ADDITIONS], ids=[case[0] for case in ADDITIONS])
def test_what_a_client_can_ignore_never_breaks(change: Change) -> None:
    new = document()
    change(new)

    assert breaking_changes(document(), new) == []


def test_the_api_s_document_against_itself_and_a_narrowed_copy() -> None:
    current = canonical_document()
    assert breaking_changes(current, current) == []

    narrowed = copy.deepcopy(current)
    narrowed["components"]["schemas"]["ProcessArgs"]["properties"]["delay"]["maximum"] = 10
    # Every operation whose body is the process type's arguments: the seed's two and the type's own.
    assert sorted(str(found) for found in breaking_changes(current, narrowed)) == [
        f"POST {path} request body application/json.delay: upper bound narrowed from <= 3600 to <= 10"
        for path in ("/process", "/run/process", "/submit/process", "/tasks")
    ]
