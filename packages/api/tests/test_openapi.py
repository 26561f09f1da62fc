"""The OpenAPI document describes every answer a client can get, for every task type the api serves: each
type's two operations with its own arguments and result, this deployment's settings of it, and the
seed's operations as they always were."""

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from starlette.routing import BaseRoute

from taskgate_api.apikeys import parse_keys
from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings
from taskgate_contracts import Registry, TaskSpec, discover
from taskgate_contracts.operations import (
    completed_model,
    run_operation_id,
    run_path,
    submit_operation_id,
    submit_path,
)

Document = dict[str, Any]
AnySpec = TaskSpec[Any, Any]
REF = "#/components/schemas/"


def document_of(settings: ApiSettings, registry: Registry) -> Document:
    """The document as a client fetches it (the app's lifespan is not needed for it)."""
    response = TestClient(create_app(settings, registry)).get("/openapi.json")
    assert response.status_code == 200
    document: Document = response.json()
    return document


@pytest.fixture(params=["installed", "with the tests' own"])
def served(request: pytest.FixtureRequest, registry: Registry) -> Registry:
    """The installed task types alone, and with the tests' own beside them."""
    return discover() if request.param == "installed" else registry


@pytest.fixture
def document(unreachable_settings: ApiSettings, served: Registry) -> Document:
    return document_of(unreachable_settings, served)


def offered(registry: Registry) -> list[AnySpec]:
    """The types clients submit: all but the internal ones."""
    return [spec for spec in registry if not spec.internal]


def test_an_internal_type_has_no_operation(document: Document) -> None:
    assert "webhook" in discover()
    assert not [path for path in document["paths"] if path.endswith("/webhook")]
    assert "WebhookArgs" not in document["components"]["schemas"]


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def schema_of(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def models_of(response: dict[str, Any]) -> list[str]:
    """The models a JSON answer may be: one, or each branch of its `anyOf`."""
    schema = schema_of(response)
    return [branch["$ref"].removeprefix(REF) for branch in schema.get("anyOf", [schema])]


def operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, path_item in document["paths"].items():
        for method, operation in path_item.items():
            yield path, method, operation


def refs_in(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def test_every_task_type_has_a_submit_and_a_run_operation(document: Document, served: Registry) -> None:
    components = document["components"]["schemas"]
    for spec in offered(served):
        submit = document["paths"][submit_path(spec)]["post"]
        run = document["paths"][run_path(spec)]["post"]
        assert submit["operationId"] == submit_operation_id(spec)
        assert run["operationId"] == run_operation_id(spec)
        for operation in (submit, run):
            assert operation["description"].startswith(spec.description)
            # The body is the type's args model, in the components with its example.
            assert operation["requestBody"]["required"] is True
            assert schema_of(operation["requestBody"]) == ref(spec.args.__name__)
            examples = spec.args.model_json_schema()["examples"]
            assert components[spec.args.__name__]["examples"] == examples
            assert spec.args.model_validate(examples[0])  # the example is itself valid
        assert schema_of(submit["responses"]["202"]) == ref("SubmittedResponse")
        # A run's 200 is the type's own answer, whose `result` is its result model.
        completed = completed_model(spec).__name__
        assert schema_of(run["responses"]["200"]) == ref(completed)
        assert components[completed]["properties"]["result"]["$ref"] == REF + spec.result.__name__
        assert spec.result.__name__ in components
        assert (
            components[completed]["examples"][0]["result"] == spec.result.model_json_schema()["examples"][0]
        )


@pytest.mark.parametrize("kind", ["submit", "run"])
def test_every_task_type_operation_documents_its_failures_with_models(
    document: Document, served: Registry, kind: str
) -> None:
    expected = {
        "422": "ValidationErrorResponse",
        "503": "ServiceUnavailableResponse",
        "413": "TooLargeResponse",
        **({"202": "PendingResponse", "500": "FailedResponse"} if kind == "run" else {}),
    }
    components = document["components"]["schemas"]
    for spec in offered(served):
        path = submit_path(spec) if kind == "submit" else run_path(spec)
        responses = document["paths"][path]["post"]["responses"]
        for code, model in expected.items():
            assert models_of(responses[code])[0] == model, (path, code)
            assert responses[code]["description"], (path, code)
            assert components[model]["examples"], (path, code, model)


def test_the_seed_s_operations_are_documented_as_before(document: Document) -> None:
    process = document["paths"]["/process"]["post"]
    assert process["operationId"] == "process"
    assert schema_of(process["requestBody"]) == ref("ProcessArgs")
    responses = process["responses"]
    assert {"200", "202", "413", "422", "500", "503"} <= set(responses)
    # The seed's answer: `result` is the seed's message, not the process type's whole result.
    assert schema_of(responses["200"]) == ref("CompletedResponse")
    assert schema_of(responses["202"]) == ref("PendingResponse")
    assert models_of(responses["500"]) == ["FailedResponse", "InternalErrorResponse"]
    assert document["components"]["schemas"]["CompletedResponse"]["properties"]["result"]["type"] == "string"

    submit = document["paths"]["/tasks"]["post"]
    assert submit["operationId"] == "submit_task"
    assert schema_of(submit["requestBody"]) == ref("ProcessArgs")
    assert {"202", "413", "422", "503"} <= set(submit["responses"])
    assert schema_of(submit["responses"]["202"]) == ref("SubmittedResponse")


def test_a_task_view_s_result_is_one_of_the_result_models(document: Document, served: Registry) -> None:
    result = document["components"]["schemas"]["TaskView"]["properties"]["result"]
    assert result["anyOf"] == [*(ref(spec.result.__name__) for spec in offered(served)), {"type": "null"}]


def test_a_type_s_settings_are_stated_on_its_operations(
    monkeypatch: pytest.MonkeyPatch, unreachable_settings: ApiSettings, registry: Registry
) -> None:
    monkeypatch.setenv("MAX_DELAY", "60")
    monkeypatch.setenv("ECHO_MAX_LENGTH", "50")
    document = document_of(unreachable_settings, registry)
    stated = {
        "process": "This deployment's settings of the process type: MAX_DELAY = 60.0.",
        "echo": "This deployment's settings of the echo type: ECHO_MAX_LENGTH = 50.",
        "thumbnail": "This deployment's settings of the thumbnail type: THUMBNAIL_MAX_PIXELS = 25000000.",
    }
    for spec in offered(registry):
        for path in (submit_path(spec), run_path(spec)):
            description = document["paths"][path]["post"]["description"]
            if spec.name in stated:
                assert description.endswith(stated[spec.name]), description
            else:  # a type without settings states none
                assert "This deployment's settings" not in description


def test_every_operation_has_a_unique_operation_id(document: Document) -> None:
    ids = [operation.get("operationId") for _, _, operation in operations(document)]
    assert None not in ids
    assert len(ids) == len(set(ids))


def test_every_reference_resolves(document: Document) -> None:
    # Args models' own definitions (the weekly report's Week) join the components too.
    components = document["components"]["schemas"]
    for target in refs_in(document):
        assert target.startswith(REF), target
        assert target.removeprefix(REF) in components, target


def test_the_answer_to_an_unknown_type_is_not_an_operation(document: Document) -> None:
    assert not [path for path in document["paths"] if "{task_type}" in path]


def test_a_name_that_is_not_an_identifier(unreachable_settings: ApiSettings, weekly_report: AnySpec) -> None:
    document = document_of(unreachable_settings, Registry.of([weekly_report]))
    assert (
        document["paths"]["/submit/acme.weekly-report"]["post"]["operationId"] == "submit_acme_weekly_report"
    )
    run = document["paths"]["/run/acme.weekly-report"]["post"]
    assert run["operationId"] == "run_acme_weekly_report"
    assert schema_of(run["responses"]["200"]) == ref("AcmeWeeklyReportCompleted")


def test_a_deployment_without_the_process_type_has_no_seed_operations(
    unreachable_settings: ApiSettings, echo: AnySpec
) -> None:
    document = document_of(unreachable_settings, Registry.of([echo]))
    assert set(document["paths"]) == {
        "/submit/echo",
        "/run/echo",
        "/tasks",
        "/tasks/{task_id}",
        "/tasks/{task_id}/events",
        "/dead-letters",
        "/dead-letters/{task_id}/replay",
        "/healthz",
        "/readyz",
        "/metrics",
    }
    result = document["components"]["schemas"]["TaskView"]["properties"]["result"]
    assert result["anyOf"] == [ref("EchoResult"), {"type": "null"}]


def test_a_model_with_a_title_of_its_own_is_referred_to_by_its_name(
    unreachable_settings: ApiSettings,
) -> None:
    class Args(BaseModel):
        model_config = ConfigDict(title="Shown to people", json_schema_extra={"examples": [{"n": 1}]})

        n: int

    class Result(BaseModel):
        model_config = ConfigDict(title="Also shown", json_schema_extra={"examples": [{"n": 1}]})

        n: int

    titled = TaskSpec(name="titled", args=Args, result=Result, description="Models with titles.")
    document = document_of(unreachable_settings, Registry.of([titled]))
    assert schema_of(document["paths"]["/submit/titled"]["post"]["requestBody"]) == ref("Args")
    test_every_reference_resolves(document)


def test_tasks_documents_not_found(document: Document) -> None:
    responses = document["paths"]["/tasks/{task_id}"]["get"]["responses"]
    assert {"200", "404", "503"} <= set(responses)


def test_the_wait_and_body_limits_are_this_deployment_s(unreachable_settings: ApiSettings) -> None:
    settings = unreachable_settings.model_copy(update={"task_timeout": 12.5, "max_body_bytes": 2048})
    document = document_of(settings, discover())
    [wait] = [p for p in document["paths"]["/tasks/{task_id}"]["get"]["parameters"] if p["name"] == "wait"]
    assert wait["schema"]["maximum"] == 12.5
    assert "2048 bytes" in document["paths"]["/run/thumbnail"]["post"]["responses"]["413"]["description"]


def test_every_json_answer_has_a_model_with_an_example(document: Document) -> None:
    schemas = document["components"]["schemas"]
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            if "application/json" not in response.get("content", {}):
                continue
            for name in models_of(response):
                assert name in schemas, (method, path, code)
                assert schemas[name].get("examples"), (method, path, code, name)


def test_every_operation_may_answer_an_unexpected_failure_as_json(document: Document) -> None:
    for path, method, operation in operations(document):
        assert models_of(operation["responses"]["500"])[-1] == "InternalErrorResponse", (method, path)


def test_every_error_answer_has_a_detail(document: Document) -> None:
    """One shape: each error model says what is wrong in `detail` (the failed task's 500 is the seed's)."""
    schemas = document["components"]["schemas"]
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            if int(code) >= 400 and "application/json" in response.get("content", {}):
                for name in set(models_of(response)) - {"FailedResponse", "ReadinessResponse"}:
                    assert "detail" in schemas[name]["required"], (method, path, code, name)


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every operation's route, also inside the routers FastAPI (from 0.12x) keeps included as they are."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def headers_of(document: Document, path: str, method: str, code: str) -> set[str]:
    return set(document["paths"][path][method]["responses"][code].get("headers", {}))


def test_the_headers_answers_carry_are_declared(document: Document, served: Registry) -> None:
    for spec in offered(served):
        assert headers_of(document, submit_path(spec), "post", "202") == {"Location"}
        assert headers_of(document, run_path(spec), "post", "202") == {"Location", "Retry-After"}
    assert headers_of(document, "/tasks", "post", "202") == {"Location"}
    assert headers_of(document, "/process", "post", "202") == {"Location", "Retry-After"}
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            json_answer = "application/json" in response.get("content", {})
            if json_answer and "ServiceUnavailableResponse" in models_of(response):
                assert headers_of(document, path, method, code) == {"Retry-After"}, (method, path, code)
    assert headers_of(document, "/readyz", "get", "503") == set()
    assert headers_of(document, "/tasks/{task_id}", "delete", "202") == set()


def test_a_keyed_api_declares_its_challenge(unreachable_settings: ApiSettings) -> None:
    settings = unreachable_settings.model_copy(update={"api_keys": parse_keys("k")})
    document = create_app(settings, discover()).openapi()
    for path, method, operation in operations(document):
        if path != "/healthz":
            assert models_of(operation["responses"]["401"]) == ["UnauthorizedResponse"], (method, path)
            assert headers_of(document, path, method, "401") == {"WWW-Authenticate"}


#: Swagger UI's and ReDoc's pages (fastapi-offline's routes): pages for people, not operations.
DOCUMENTATION_PAGES = {"/docs", "/docs/oauth2-redirect", "/redoc"}


def test_every_route_names_its_operation(unreachable_settings: ApiSettings, served: Registry) -> None:
    """Explicit ids, hidden routes' too: FastAPI's generated ones change with a function's name."""
    routes = list(api_routes(create_app(unreachable_settings, served).routes))
    operations = [route for route in routes if route.path not in DOCUMENTATION_PAGES]
    assert {route.path for route in operations if not route.include_in_schema} == {
        "/submit/{task_type}",
        "/run/{task_type}",
    }
    for route in operations:
        assert route.operation_id, route.path
