"""One way to answer with a contracts model: pydantic writes the JSON bytes directly."""

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel


def model_response(model: BaseModel, status_code: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        content=model.model_dump_json(),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
