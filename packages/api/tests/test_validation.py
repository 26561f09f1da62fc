"""Every kind of bad request is a 422 that says what is wrong and where, before anything is sent anywhere.

A task type's arguments are validated as its args model says, with this deployment's settings of the
type (MAX_DELAY for `process`): each error's `loc` is `["body", <field>]`, or `["body"]` for a body that
is no object at all. The apps here have no RabbitMQ or Redis: a 503 means validation let the body pass.
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings
from taskgate_contracts import Registry

#: Every operation whose body is the process type's arguments.
PROCESS_PATHS = ["/process", "/tasks", "/submit/process", "/run/process"]
JSON = {"content-type": "application/json"}

BAD_BODIES = {
    "negative": ('{"delay": -1}', ["body", "delay"], "greater than or equal to 0"),
    "above MAX_DELAY": ('{"delay": 3600.5}', ["body", "delay"], "less than or equal to 3600 (MAX_DELAY)"),
    "NaN": ('{"delay": NaN}', ["body", "delay"], "finite number"),
    "Infinity": ('{"delay": Infinity}', ["body", "delay"], "finite number"),
    "overflowing float": ('{"delay": 1e400}', ["body", "delay"], "finite number"),
    "huge integer": ('{"delay": ' + "9" * 400 + "}", ["body", "delay"], "finite number"),
    "string": ('{"delay": "2"}', ["body", "delay"], "valid number"),
    "boolean": ('{"delay": true}', ["body", "delay"], "valid number"),
    "null": ('{"delay": null}', ["body", "delay"], "valid number"),
    "list": ("[2]", ["body"], "Input should be an object"),
    "list delay": ('{"delay": [2]}', ["body", "delay"], "valid number"),
    "object delay": ('{"delay": {"n": 2}}', ["body", "delay"], "valid number"),
    "unknown field": ('{"delay": 2, "priority": 1}', ["body", "priority"], "Extra inputs are not permitted"),
    "not JSON": ("delay=2", ["body"], "Invalid JSON"),
    "truncated JSON": ('{"delay": ', ["body"], "Invalid JSON"),
    "empty": ("", ["body"], "Invalid JSON"),
    "JSON string": ('"2"', ["body"], "Input should be an object"),
    "JSON number": ("2", ["body"], "Input should be an object"),
}


@pytest.fixture
def tests_client(unreachable_settings: ApiSettings, registry: Registry) -> Iterator[TestClient]:
    """An api serving the tests' own task types too."""
    with TestClient(create_app(unreachable_settings, registry), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("path", PROCESS_PATHS)
@pytest.mark.parametrize(("body", "loc", "expected"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_body_is_422_with_a_reason_and_a_place(
    offline_client: TestClient, path: str, body: str, loc: list[str], expected: str
) -> None:
    response = offline_client.post(path, content=body, headers=JSON)
    assert response.status_code == 422, response.text
    details = response.json()["detail"]
    assert [item["loc"] for item in details] == [loc]
    assert expected in details[0]["msg"], details
    assert all(set(item) == {"loc", "msg", "type"} for item in details)


@pytest.mark.parametrize("path", PROCESS_PATHS)
def test_missing_body_is_422(offline_client: TestClient, path: str) -> None:
    response = offline_client.post(path)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("path", PROCESS_PATHS)
def test_an_empty_object_is_a_delay_of_zero(offline_client: TestClient, path: str) -> None:
    assert offline_client.post(path, json={}).status_code == 503  # valid, as in the seed


THUMBNAIL_BODIES = {
    "width 0": ({"image": "aGk=", "width": 0, "height": 2}, ["body", "width"], "greater than 0"),
    "height over 4096": ({"image": "aGk=", "width": 1, "height": 4097}, ["body", "height"], "4096"),
    "width as a string": ({"image": "aGk=", "width": "64", "height": 2}, ["body", "width"], "valid integer"),
    "no image": ({"width": 1, "height": 2}, ["body", "image"], "Field required"),
    "image not base64": ({"image": "not base64!", "width": 1, "height": 1}, ["body", "image"], "ase64"),
    "unknown field": ({"image": "aGk=", "width": 1, "height": 1, "fit": "crop"}, ["body", "fit"], "Extra"),
}


@pytest.mark.parametrize("operation", ["submit", "run"])
@pytest.mark.parametrize(("body", "loc", "expected"), THUMBNAIL_BODIES.values(), ids=THUMBNAIL_BODIES.keys())
def test_a_type_s_arguments_are_judged_by_its_own_model(
    offline_client: TestClient, operation: str, body: dict[str, object], loc: list[str], expected: str
) -> None:
    response = offline_client.post(f"/{operation}/thumbnail", json=body)
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    assert detail["loc"] == loc
    assert expected in detail["msg"]


def test_every_wrong_field_is_named_at_once(offline_client: TestClient) -> None:
    response = offline_client.post("/submit/thumbnail", json={"image": "", "width": 0, "height": -1})
    assert sorted(tuple(item["loc"]) for item in response.json()["detail"]) == [
        ("body", "height"),
        ("body", "image"),
        ("body", "width"),
    ]


def test_a_plug_in_type_s_validators_see_this_deployment_s_settings(
    monkeypatch: pytest.MonkeyPatch, unreachable_settings: ApiSettings, registry: Registry
) -> None:
    monkeypatch.setenv("ECHO_MAX_LENGTH", "5")
    with TestClient(create_app(unreachable_settings, registry), raise_server_exceptions=False) as client:
        refused = client.post("/submit/echo", json={"text": "sixsix"})
        accepted = client.post("/submit/echo", json={"text": "five5"})
    assert refused.status_code == 422
    [detail] = refused.json()["detail"]
    assert (detail["loc"], detail["msg"]) == (
        ["body", "text"],
        "Value error, at most 5 characters (ECHO_MAX_LENGTH)",
    )
    assert accepted.status_code == 503


@pytest.mark.parametrize("path", PROCESS_PATHS)
def test_max_delay_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, unreachable_settings: ApiSettings, path: str
) -> None:
    monkeypatch.setenv("MAX_DELAY", "60")
    with TestClient(create_app(unreachable_settings), raise_server_exceptions=False) as client:
        refused = client.post(path, json={"delay": 61})
        accepted = client.post(path, json={"delay": 60})
    assert refused.status_code == 422
    [detail] = refused.json()["detail"]
    assert detail == {
        "loc": ["body", "delay"],
        "msg": "Input should be less than or equal to 60 (MAX_DELAY)",
        "type": "less_than_equal",
    }
    assert accepted.status_code == 503  # valid: it is sending that fails, Redis being unreachable


def test_bad_input_is_not_echoed(offline_client: TestClient) -> None:
    secret = "x" * 10_000
    for path in ("/process", "/submit/thumbnail"):
        response = offline_client.post(path, json={"delay": secret, "image": secret})
        assert response.status_code == 422
        assert secret not in response.text


@pytest.mark.parametrize("key", [b"", b" leading-space", b"x" * 256, b"tab\tinside", "clé".encode("latin-1")])
@pytest.mark.parametrize("path", PROCESS_PATHS)
def test_malformed_idempotency_keys_are_422(offline_client: TestClient, path: str, key: bytes) -> None:
    response = offline_client.post(path, json={"delay": 0}, headers={"Idempotency-Key": key})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


@pytest.mark.parametrize("last_event_id", ["null", "1", "1-", "99999999999999999999-0", "final2"])
def test_malformed_last_event_ids_are_422(offline_client: TestClient, last_event_id: str) -> None:
    path = "/tasks/6f1c0000-0000-0000-0000-000000000000/events"
    response = offline_client.get(path, headers={"Last-Event-ID": last_event_id})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("path", ["/process", "/submit/thumbnail"])
def test_body_that_is_not_text_is_422(offline_client: TestClient, path: str) -> None:
    response = offline_client.post(path, content=b"\xff\xfe{", headers=JSON)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert (detail["loc"], detail["type"]) == (["body"], "json_invalid")


def test_a_wait_over_task_timeout_is_422(offline_client: TestClient) -> None:
    response = offline_client.get("/tasks/6f1c0000-0000-0000-0000-000000000000", params={"wait": 31})
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["query", "wait"]
    assert "30 (TASK_TIMEOUT)" in detail["msg"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/tasks/6f1c0000-0000-0000-0000-000000000000", "DELETE, GET"),
        ("GET", "/submit/thumbnail", "POST"),
        ("DELETE", "/run/process", "POST"),
        # No such type, but the path is a task type operation's: POST is what it takes.
        ("GET", "/submit/nope", "POST"),
    ],
)
def test_wrong_method_lists_every_allowed_one(
    offline_client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = offline_client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
