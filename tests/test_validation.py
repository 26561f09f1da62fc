"""Every kind of bad body is refused with 422 and a message that points at what is wrong."""

import json

import httpx
import pytest

from taskgate_contracts import ValidationErrorResponse
from tests.settings import MAX_DELAY

JSON = {"content-type": "application/json"}

#: Bodies whose `delay` is wrong: the error must point at ("body", "delay").
BAD_DELAYS = {
    "negative": b'{"delay": -1}',
    "above MAX_DELAY": json.dumps({"delay": MAX_DELAY + 0.5}).encode(),
    "NaN": b'{"delay": NaN}',
    "Infinity": b'{"delay": Infinity}',
    "-Infinity": b'{"delay": -Infinity}',
    "overflowing to infinity": b'{"delay": 1e999}',
    "a string": b'{"delay": "2"}',
    "a boolean": b'{"delay": true}',
    "null": b'{"delay": null}',
    "a list": b'{"delay": [2]}',
    "an object": b'{"delay": {"seconds": 2}}',
}
#: Bodies that are not a JSON object at all: the error must point at ("body",).
NOT_AN_OBJECT = {
    "not JSON": b"delay=2",
    "truncated JSON": b'{"delay": 2',
    "a JSON list": b'[{"delay": 2}]',
    "a JSON number": b"2",
    "a JSON string": b'"2"',
    "JSON null": b"null",
}
#: (body as sent, its content type, where the error must point)
BAD_BODIES = {
    **{name: (body, JSON, ("body", "delay")) for name, body in BAD_DELAYS.items()},
    **{name: (body, JSON, ("body",)) for name, body in NOT_AN_OBJECT.items()},
    "an unknown extra field": (b'{"delay": 1, "priority": 5}', JSON, ("body", "priority")),
    "a form": (b"delay=2", {"content-type": "application/x-www-form-urlencoded"}, ("body",)),
}


@pytest.mark.parametrize(("content", "headers", "points_at"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_bad_body_is_refused_with_422(
    client: httpx.AsyncClient, content: bytes, headers: dict[str, str], points_at: tuple[str, ...]
) -> None:
    response = await client.post("/process", content=content, headers=headers)

    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY, response.text
    errors = ValidationErrorResponse.model_validate_json(response.content).detail
    assert errors
    assert all(error.msg.strip() for error in errors)
    assert any(tuple(error.loc[: len(points_at)]) == points_at for error in errors), errors
