"""The API key and the body limit hold for every route, before anything else runs."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings


@pytest.fixture
def keyed_client(unreachable_settings: ApiSettings) -> Iterator[TestClient]:
    settings = unreachable_settings.model_copy(update={"api_keys": [SecretStr("k-one"), SecretStr("k-two")]})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/process"),
        ("POST", "/tasks"),
        ("GET", "/tasks/6f1c0000-0000-0000-0000-000000000000"),
        ("DELETE", "/tasks/6f1c0000-0000-0000-0000-000000000000"),
        ("GET", "/tasks/6f1c0000-0000-0000-0000-000000000000/events"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic k-one", "k-one", "Bearer "])
def test_every_route_needs_a_key(
    keyed_client: TestClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = keyed_client.request(method, path, json={"delay": 0}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "API key" in response.json()["detail"]


def test_liveness_needs_no_key(keyed_client: TestClient) -> None:
    assert keyed_client.get("/healthz").status_code == 200


@pytest.mark.parametrize("key", ["k-one", "k-two"])
def test_any_configured_key_is_let_through(keyed_client: TestClient, key: str) -> None:
    response = keyed_client.post("/process", json={"delay": -1}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422  # past the guard: the body is judged


def test_openapi_documents_the_key(keyed_client: TestClient) -> None:
    spec = keyed_client.get("/openapi.json", headers={"Authorization": "Bearer k-one"}).json()
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "401" in spec["paths"]["/process"]["post"]["responses"]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_settings_split_comma_separated_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", " a , b,,c ")
    keys = ApiSettings(_env_file=None).api_keys
    assert [key.get_secret_value() for key in keys] == ["a", "b", "c"]


def test_announced_large_body_is_413(offline_client: TestClient) -> None:
    response = offline_client.post(
        "/process", content=b"{" + b" " * 20_000 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "at most 16384 bytes" in response.json()["detail"]


def test_streamed_large_body_is_413(offline_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"delay": 1, "pad": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}'

    response = offline_client.post("/process", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_nonsense_content_length_is_413(offline_client: TestClient) -> None:
    response = offline_client.post("/process", content=b"{}", headers={"content-length": "-5"})
    assert response.status_code == 413
