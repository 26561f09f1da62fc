"""/metrics counts requests by route template and status code, and shows the api's task figures."""

import re

from fastapi.testclient import TestClient


def _count(text: str, labels: str) -> float:
    found = re.search(
        r"^taskgate_http_requests_total\{" + re.escape(labels) + r"\} (\S+)$", text, re.MULTILINE
    )
    return float(found.group(1)) if found else 0.0


def test_requests_are_counted_by_route_template_and_code(offline_client: TestClient) -> None:
    invalid = 'code="422",method="POST",route="/process"'
    unknown = 'code="404",method="GET",route="/tasks/{task_id}"'
    before = offline_client.get("/metrics").text
    offline_client.post("/process", json={"delay": -1})
    offline_client.get("/tasks/not-a-task")
    offline_client.get("/no/such/path")
    after = offline_client.get("/metrics").text
    assert _count(after, invalid) == _count(before, invalid) + 1
    assert _count(after, unknown) == _count(before, unknown) + 1
    assert 'route="unmatched"' in after
    assert "/no/such/path" not in after
    for name in ("taskgate_http_request_seconds", "taskgate_waiting_tasks"):
        assert name in after
