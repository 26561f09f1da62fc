"""What ops ships for watching taskgate with Prometheus and Grafana, as files in the package: the alert
rules (`alerts.yml`) and the dashboard (`dashboard.json`), over the api's, Flower's and RabbitMQ's
metrics. Compose mounts them from the source tree; elsewhere, find them with these paths."""

import json
from importlib.resources import files
from pathlib import Path

#: Prometheus alert rules: queue backlog, queues without consumers, failure ratio, waiting requests near
#: capacity, dead letters arriving.
ALERT_RULES = Path(str(files(__package__) / "alerts.yml"))
#: The Grafana dashboard; its datasource is the variable `datasource` (a Prometheus).
DASHBOARD = Path(str(files(__package__) / "dashboard.json"))


def dashboard_queries() -> list[str]:
    """Every PromQL query the dashboard's panels make."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
