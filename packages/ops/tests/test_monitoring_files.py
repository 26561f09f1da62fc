"""The alert rules and the dashboard ops ships, checked with Prometheus's own tool: `promtool check rules`,
`promtool test rules` with a unit test for every alert, and every dashboard query parsed as PromQL."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from taskgate_ops.monitoring import ALERT_RULES, DASHBOARD, dashboard_queries

UNIT_TESTS = Path(__file__).parent / "monitoring" / "alerts.test.yml"
ALERTS = {
    "TaskgateQueueBacklogGrowing",
    "TaskgateQueueWithoutConsumer",
    "TaskgateFailureRatioHigh",
    "TaskgateWaitingNearCapacity",
    "TaskgateDeadLettersArriving",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail(
            "promtool is missing: apt-get install prometheus (nox and .ci/run install it)", pytrace=False
        )
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_rules_are_valid() -> None:
    checked = promtool("check", "rules", str(ALERT_RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_the_rules_are_the_five_alerts_the_operators_need() -> None:
    groups = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))["groups"]
    assert {rule["alert"] for group in groups for rule in group["rules"]} == ALERTS


def test_every_alert_fires_as_its_unit_test_expects() -> None:
    tested = promtool("test", "rules", str(UNIT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["tests"]
    fired = {check["alertname"] for case in cases for check in case["alert_rule_test"] if check["exp_alerts"]}
    assert fired == ALERTS  # each alert has a case in which it fires


def test_every_dashboard_query_is_promql(tmp_path: Path) -> None:
    # promtool parses the expressions of recording rules: the dashboard's queries, as such rules.
    rules = [
        {"record": f"dashboard:query_{index}", "expr": expr} for index, expr in enumerate(dashboard_queries())
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dashboard_covers_the_api_flower_and_rabbitmq_through_one_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "taskgate"
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
    queries = " ".join(dashboard_queries())
    for prefix in ("taskgate_", "flower_", "rabbitmq_"):
        assert prefix in queries
