"""The OpenAPI document describes every answer a client can get."""

from fastapi.testclient import TestClient


def test_process_documents_every_outcome(offline_client: TestClient) -> None:
    spec = offline_client.get("/openapi.json").json()
    responses = spec["paths"]["/process"]["post"]["responses"]
    assert {"200", "202", "422", "500", "503"} <= set(responses)
    schemas = spec["components"]["schemas"]
    assert {"CompletedResponse", "PendingResponse", "FailedResponse", "ServiceUnavailableResponse"} <= set(
        schemas
    )


def test_tasks_documents_not_found(offline_client: TestClient) -> None:
    responses = offline_client.get("/openapi.json").json()["paths"]["/tasks/{task_id}"]["get"]["responses"]
    assert {"200", "404", "503"} <= set(responses)
