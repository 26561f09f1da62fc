"""The OpenAPI document as this deployment behaves: its task types' arguments, results and settings, its
limits, its API key when one is required, the JSON 500 any operation may answer, and the headers the
answers carry."""

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from taskgate_api.config import ApiSettings
from taskgate_api.engine.tasktypes import TaskType, TaskTypes
from taskgate_api.http.guards import DOCS_ASSETS, OPEN_PATHS
from taskgate_contracts import (
    InternalErrorResponse,
    TooLargeResponse,
    TooManyRequestsResponse,
    UnauthorizedResponse,
)
from taskgate_contracts.operations import completed_model, run_operation_id, submit_operation_id

Schema = dict[str, Any]


class DocumentationError(Exception):
    """The task types' models cannot all be named in one OpenAPI document; one line saying which."""


_REF = "#/components/schemas/{model}"


def offline_app(**settings: Any) -> FastAPI:
    """A FastAPI app whose `/docs` (Swagger UI) and `/redoc` load their scripts and styles from this
    api, under DOCS_ASSETS: the copies fastapi-offline ships (pinned in the api's dependencies), so the
    pages work on a machine without internet access. Swagger UI keeps the key given to its Authorize
    button across reloads."""
    return FastAPIOffline(
        static_url=DOCS_ASSETS, swagger_ui_parameters={"persistAuthorization": True}, **settings
    )


def describe_deployment(app: FastAPI, settings: ApiSettings, task_types: TaskTypes) -> None:
    build = app.openapi

    def openapi() -> Schema:
        if app.openapi_schema is None:
            schema = build()
            _parameters_not_nullable(schema)
            _task_types(schema, task_types)
            _wait_limit(schema, settings)
            _body_limit(schema, settings)
            if settings.api_keys:
                _bearer_auth(schema)
            _key_limits(schema)
            _unexpected_errors(schema)
            _response_headers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _task_types(schema: Schema, task_types: TaskTypes) -> None:
    """Each type's args model joins the components (its operations read the body themselves, so FastAPI
    does not see it), its settings are stated on its operations, and a task view's `result` is one of
    the types' result models (documented by FastAPI, through each type's `<Type>Completed` answer)."""
    components = schema["components"]["schemas"]
    operations = {
        operation["operationId"]: operation
        for path_item in schema["paths"].values()
        for operation in path_item.values()
    }
    results = []
    for task_type in task_types.offered().values():
        _add_args(components, task_type)
        settings = _settings_line(task_type)
        if settings:
            for operation_id in (submit_operation_id(task_type.spec), run_operation_id(task_type.spec)):
                operations[operation_id]["description"] += f"\n\n{settings}"
        completed = components[completed_model(task_type.spec).__name__]
        results.append({"$ref": completed["properties"]["result"]["$ref"]})
    components["TaskView"]["properties"]["result"]["anyOf"] = [*results, {"type": "null"}]


def _add_args(components: Schema, task_type: TaskType) -> None:
    """The args model and the models it holds, under their class names: the operations refer to it, and
    pydantic to its definitions, by those. The deployment's settings state the bounds they set on it."""
    model = task_type.spec.args
    model_schema = model.model_json_schema(ref_template=_REF)
    if task_type.settings is not None:
        task_type.settings.state_in(model_schema)
    definitions = model_schema.pop("$defs", {})
    for name, definition in [(model.__name__, model_schema), *definitions.items()]:
        held = components.setdefault(name, definition)
        if not _same_model(held, definition):
            raise DocumentationError(
                f"two models are named {name!r} in the OpenAPI document, one of them held by the args of "
                f"task type {task_type.name} ({model.__module__}); rename one of them"
            )


def _same_model(one: Schema, other: Schema) -> bool:
    """The same model, even where FastAPI renders its schema a little differently (`1.0` for `1`)."""
    return (one.get("title"), set(one.get("properties", {}))) == (
        other.get("title"),
        set(other.get("properties", {})),
    )


def _settings_line(task_type: TaskType) -> str:
    if task_type.settings is None:
        return ""
    values = ", ".join(
        f"{name.upper()} = {value}" for name, value in task_type.settings.model_dump(mode="json").items()
    )
    return f"This deployment's settings of the {task_type.name} type: {values}."


def _wait_limit(schema: Schema, settings: ApiSettings) -> None:
    """TASK_TIMEOUT is a setting, so no model can state it; the document does."""
    for parameter in schema["paths"]["/tasks/{task_id}"]["get"]["parameters"]:
        if parameter["name"] == "wait":
            parameter["schema"]["maximum"] = settings.task_timeout


def _body_limit(schema: Schema, settings: ApiSettings) -> None:
    """Every route that takes a body may refuse one over MAX_BODY_BYTES."""
    schema["components"]["schemas"]["TooLargeResponse"] = TooLargeResponse.model_json_schema()
    too_large = {
        "description": f"The request body is over {settings.max_body_bytes} bytes (MAX_BODY_BYTES).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TooLargeResponse"}}},
    }
    for operations in schema["paths"].values():
        for operation in operations.values():
            if "requestBody" in operation:
                operation["responses"]["413"] = too_large


def _parameters_not_nullable(schema: Schema) -> None:
    """An optional header or query parameter is absent, never `null`: drop the null branch pydantic adds."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                branches = parameter["schema"].get("anyOf", [])
                kept = [branch for branch in branches if branch.get("type") != "null"]
                if len(kept) == 1 < len(branches):
                    rest = {key: value for key, value in parameter["schema"].items() if key != "anyOf"}
                    parameter["schema"] = {**kept[0], **rest}


def _bearer_auth(schema: Schema) -> None:
    """Every route but the open ones needs `Authorization: Bearer <key>`, and may answer 401."""
    schema.setdefault("components", {})["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer"}}
    schema["components"]["schemas"]["UnauthorizedResponse"] = UnauthorizedResponse.model_json_schema()
    unauthorized = {"$ref": "#/components/schemas/UnauthorizedResponse"}
    for path, operations in schema["paths"].items():
        if path in OPEN_PATHS:
            continue
        for operation in operations.values():
            operation["security"] = [{"apiKey": []}]
            operation["responses"]["401"] = {
                "description": "A valid API key is required.",
                "content": {"application/json": {"schema": unauthorized}},
            }


def _key_limits(schema: Schema) -> None:
    """Any operation but the open ones may be over its key's rate (a key's `rate` in API_KEYS), and an
    operation that queues a task over its key's in-flight limit (`in_flight`): 429."""
    schema["components"]["schemas"]["TooManyRequestsResponse"] = TooManyRequestsResponse.model_json_schema()
    too_many = {"$ref": "#/components/schemas/TooManyRequestsResponse"}
    for path, operations in schema["paths"].items():
        if path in OPEN_PATHS:
            continue
        for operation in operations.values():
            queues = "requestBody" in operation
            operation["responses"]["429"] = {
                "description": "The key is over its limit of requests per second"
                + (" or of tasks in flight" if queues else "")
                + " (API_KEYS); `policy` says which.",
                "content": {"application/json": {"schema": too_many}},
            }


#: The headers answers carry, by the model of the answer: declared wherever such an answer is.
_HEADERS_BY_MODEL = {
    "SubmittedResponse": ("Location",),
    "ReplayedResponse": ("Location",),
    "TooManyRequestsResponse": ("Retry-After", "RateLimit", "RateLimit-Policy"),
    "PendingResponse": ("Location", "Retry-After"),
    "ServiceUnavailableResponse": ("Retry-After",),
    "UnauthorizedResponse": ("WWW-Authenticate",),
}
_HEADERS: dict[str, Schema] = {
    "Location": {
        "description": "Where to follow the task: `/tasks/{task_id}`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit": {
        "description": "The key's policy this answer counted against, what is left of it and the seconds "
        'until it is restored, per draft-ietf-httpapi-ratelimit-headers-10: `"rate";r=0;t=1` or '
        '`"in-flight";r=0`. Every answer to a key with a `rate` carries the `rate` item.',
        "required": True,
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'The key\'s quota policies: `"rate";q=10;w=1` (requests per second) and '
        '`"in-flight";q=100;qu="concurrent-requests"` (tasks queued or running).',
        "required": True,
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": "How to authenticate: `Bearer`.",
        "required": True,
        "schema": {"type": "string"},
    },
}


def _unexpected_errors(schema: Schema) -> None:
    """Any operation may fail in a way nobody foresaw: a JSON 500 naming an error id, beside the failed
    task's 500 where an operation runs a task."""
    components = schema["components"]["schemas"]
    components["InternalErrorResponse"] = InternalErrorResponse.model_json_schema()
    unexpected = {"$ref": "#/components/schemas/InternalErrorResponse"}
    for operations in schema["paths"].values():
        for operation in operations.values():
            answer = operation["responses"].get("500")
            if answer is None:
                operation["responses"]["500"] = {
                    "description": "The api failed unexpectedly; `error_id` finds it in its log.",
                    "content": {"application/json": {"schema": unexpected}},
                }
            else:
                content = answer["content"]["application/json"]
                content["schema"] = {"anyOf": [content["schema"], unexpected]}
                answer["description"] += " Or the api failed unexpectedly: `error_id` finds it in its log."


def _response_headers(schema: Schema) -> None:
    """The headers each answer carries, read off the model it answers with."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for answer in operation["responses"].values():
                model = (
                    answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
                )
                names = _HEADERS_BY_MODEL.get(model.rpartition("/")[2], ())
                if names:
                    answer["headers"] = {name: _HEADERS[name] for name in names}
