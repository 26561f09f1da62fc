"""Every kind of bad body is a 422 that says what is wrong, before anything is sent anywhere."""

import pytest
from fastapi.testclient import TestClient

BAD_BODIES = {
    "negative": ('{"delay": -1}', "greater than or equal to 0"),
    "above MAX_DELAY": ('{"delay": 3600.5}', "MAX_DELAY"),
    "NaN": ('{"delay": NaN}', "finite number"),
    "Infinity": ('{"delay": Infinity}', "finite number"),
    "overflowing float": ('{"delay": 1e400}', "finite number"),
    "huge integer": ('{"delay": ' + "9" * 400 + "}", "valid number"),
    "string": ('{"delay": "2"}', "valid number"),
    "boolean": ('{"delay": true}', "valid number"),
    "null": ('{"delay": null}', "valid number"),
    "list": ("[2]", "valid dictionary"),
    "list delay": ('{"delay": [2]}', "valid number"),
    "object delay": ('{"delay": {"n": 2}}', "valid number"),
    "unknown field": ('{"delay": 2, "priority": 1}', "Extra inputs are not permitted"),
    "not JSON": ("delay=2", "JSON decode error"),
    "truncated JSON": ('{"delay": ', "JSON decode error"),
    "JSON string": ('"2"', "valid dictionary"),
    "JSON number": ("2", "valid dictionary"),
}


@pytest.mark.parametrize(("body", "expected"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_body_is_422_with_a_reason(offline_client: TestClient, body: str, expected: str) -> None:
    response = offline_client.post("/process", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    details = response.json()["detail"]
    assert any(expected in item["msg"] for item in details), details
    assert all(set(item) == {"loc", "msg", "type"} for item in details)


def test_missing_body_is_422(offline_client: TestClient) -> None:
    response = offline_client.post("/process")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_bad_input_is_not_echoed(offline_client: TestClient) -> None:
    secret = "x" * 10_000
    response = offline_client.post("/process", json={"delay": secret})
    assert response.status_code == 422
    assert secret not in response.text
