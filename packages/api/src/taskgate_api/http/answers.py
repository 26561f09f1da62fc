"""One way to answer with JSON: pydantic (or, for a result already in JSON form, the json module)
writes the bytes directly, with no second pass through FastAPI's encoder."""

import json
from collections.abc import Mapping
from typing import Any

from fastapi import Response
from pydantic import BaseModel

_JSON = "application/json"
#: How long a client should wait before trying again when a service is down.
RETRY_AFTER_UNAVAILABLE = "5"


def model_response(model: BaseModel, status_code: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        content=model.model_dump_json(), status_code=status_code, headers=headers, media_type=_JSON
    )


def json_response(
    body: Mapping[str, Any], status_code: int, headers: Mapping[str, str] | None = None
) -> Response:
    """`body` is JSON data already (a stored result): it is written as it is, not validated again."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content=content, status_code=status_code, headers=headers, media_type=_JSON)
