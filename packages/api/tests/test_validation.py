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


@pytest.mark.parametrize("key", [b"", b" leading-space", b"x" * 256, b"tab\tinside", "clé".encode("latin-1")])
@pytest.mark.parametrize("path", ["/process", "/tasks"])
def test_malformed_idempotency_keys_are_422(offline_client: TestClient, path: str, key: bytes) -> None:
    response = offline_client.post(path, json={"delay": 0}, headers={"Idempotency-Key": key})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


@pytest.mark.parametrize("last_event_id", ["null", "1", "1-", "99999999999999999999-0", "final2"])
def test_malformed_last_event_ids_are_422(offline_client: TestClient, last_event_id: str) -> None:
    path = "/tasks/6f1c0000-0000-0000-0000-000000000000/events"
    response = offline_client.get(path, headers={"Last-Event-ID": last_event_id})
    assert response.status_code == 422, response.text


def test_body_that_is_not_text_is_422(offline_client: TestClient) -> None:
    response = offline_client.post(
        "/process", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_wrong_method_lists_every_allowed_one(offline_client: TestClient) -> None:
    response = offline_client.request("PUT", "/tasks/6f1c0000-0000-0000-0000-000000000000")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET"
