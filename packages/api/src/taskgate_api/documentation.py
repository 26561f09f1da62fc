"""The OpenAPI document as this deployment behaves: its limits, and its API key when one is required."""

from typing import Any

from fastapi import FastAPI

from taskgate_api.config import ApiSettings
from taskgate_api.guards import OPEN_PATHS
from taskgate_contracts import TooLargeResponse


def describe_deployment(app: FastAPI, settings: ApiSettings) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _parameters_not_nullable(schema)
            _limits(schema, settings)
            _body_limit(schema, settings)
            if settings.api_keys:
                _bearer_auth(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _limits(schema: dict[str, Any], settings: ApiSettings) -> None:
    """MAX_DELAY and TASK_TIMEOUT are settings, so the models cannot state them; the document does."""
    schema["components"]["schemas"]["ProcessRequest"]["properties"]["delay"]["maximum"] = settings.max_delay
    for parameter in schema["paths"]["/tasks/{task_id}"]["get"]["parameters"]:
        if parameter["name"] == "wait":
            parameter["schema"]["maximum"] = settings.task_timeout


def _body_limit(schema: dict[str, Any], settings: ApiSettings) -> None:
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


def _parameters_not_nullable(schema: dict[str, Any]) -> None:
    """An optional header or query parameter is absent, never `null`: drop the null branch pydantic adds."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                branches = parameter["schema"].get("anyOf", [])
                kept = [branch for branch in branches if branch.get("type") != "null"]
                if len(kept) == 1 < len(branches):
                    rest = {key: value for key, value in parameter["schema"].items() if key != "anyOf"}
                    parameter["schema"] = {**kept[0], **rest}


def _bearer_auth(schema: dict[str, Any]) -> None:
    """Every route but the open ones needs `Authorization: Bearer <key>`, and may answer 401."""
    schema.setdefault("components", {})["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer"}}
    for path, operations in schema["paths"].items():
        if path in OPEN_PATHS:
            continue
        for operation in operations.values():
            operation["security"] = [{"apiKey": []}]
            operation["responses"]["401"] = {"description": "A valid API key is required."}
