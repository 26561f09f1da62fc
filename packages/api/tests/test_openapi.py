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


def test_every_json_answer_has_a_model_with_an_example(offline_client: TestClient) -> None:
    spec = offline_client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                body = response.get("content", {}).get("application/json")
                if body is None:
                    continue
                name = body["schema"].get("$ref", "").rsplit("/", 1)[-1]
                assert name in schemas, (method, path, code)
                assert schemas[name].get("examples"), (method, path, code, name)
