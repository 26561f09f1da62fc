"""docker-compose.yml, .env.example and the Dockerfile, checked statically (no Docker engine runs here).
tests/test_compose_wiring.py checks the services' settings against the packages' settings classes."""

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from taskgate_contracts import discover
from taskgate_ops.monitoring import ALERT_RULES, DASHBOARD
from taskgate_ops.rabbitmq_files import DEFINITIONS_MOUNT, rendered_files
from taskgate_ops.topology import DEFAULT_VHOST

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
#: Long-running services built from a package, and the package each comes from.
BUILT = {"api": "api", "worker": "worker", "flower": "ops"}
#: The image each is tagged as, the name deploy/k8s runs it under.
IMAGES = {"api": "taskgate-api", "worker": "taskgate-worker", "flower": "taskgate-flower"}
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
#: `${TASKGATE_BIND:-127.0.0.1}`: a published port listens on this machine only, unless .env says otherwise.
BIND = "${TASKGATE_BIND:-127.0.0.1}"
HEALTH_PROBES = {
    "rabbitmq": "rabbitmq-diagnostics --quiet ping",
    "redis": "redis-cli ping",
    "api": "http://127.0.0.1:8000/healthz",
    "worker": "celery -A taskgate_worker.app inspect ping",
    "flower": "http://127.0.0.1:5555/healthcheck",
    "prometheus": "http://127.0.0.1:9090/-/ready",
    "grafana": "http://127.0.0.1:3000/api/health",
}
#: Where compose mounts the rules and the dashboard from: the files the ops wheel ships.
SHIPPED = "packages/ops/src/taskgate_ops/monitoring"
#: Opt-in services: `docker compose --profile monitoring up`.
MONITORING = {"prometheus", "grafana"}


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): value for name, value in pairs}


def documented() -> set[str]:
    """The variables .env.example sets, or shows commented out with their default."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def published(service: str) -> set[int]:
    """The container ports the service publishes."""
    return {int(str(port).rsplit(":", 1)[1]) for port in SERVICES[service].get("ports", [])}


def pyproject(package: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_service_is_there() -> None:
    assert set(SERVICES) == {"rabbitmq", "rabbitmq-user", "redis", "api", "worker", "flower", *MONITORING}


def test_monitoring_is_opt_in() -> None:
    profiled = {name for name, service in SERVICES.items() if "profiles" in service}
    assert profiled == MONITORING
    for name in MONITORING:
        assert SERVICES[name]["profiles"] == ["monitoring"]


def test_the_seed_ports_are_published() -> None:
    assert published("rabbitmq") == {5672, 15672}
    assert published("api") == {8000}
    assert published("flower") == {5555}


def test_published_ports_listen_on_this_machine_unless_env_says_otherwise() -> None:
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            address, host_port, container_port = str(port).rsplit(":", 2)
            assert (address, host_port) == (BIND, container_port), (name, port)
    assert env_example()["TASKGATE_BIND"] == "127.0.0.1"


def test_images_are_pinned_to_a_release_series() -> None:
    for name, service in SERVICES.items():
        if "build" in service:
            continue
        tag = service["image"].partition(":")[2]
        assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[a-z]+)?", tag), (name, service["image"])
    # RabbitMQ's community support covers the latest minor series only: 3.13 left it.
    assert not SERVICES["rabbitmq"]["image"].startswith("rabbitmq:3.")
    assert SERVICES["rabbitmq-user"]["image"] == SERVICES["rabbitmq"]["image"]


def test_the_worker_can_be_scaled() -> None:
    worker = SERVICES["worker"]
    assert "ports" not in worker
    assert "container_name" not in worker
    assert "hostname" not in worker


@pytest.mark.parametrize("service", sorted(HEALTH_PROBES))
def test_every_long_running_service_has_its_health_check(service: str) -> None:
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"}
    assert HEALTH_PROBES[service] in " ".join(test[1:])


def test_dependencies_wait_for_health_or_completion() -> None:
    for name, service in SERVICES.items():
        for dependency, condition in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully" if dependency == "rabbitmq-user" else "service_healthy"
            )
            assert condition == {"condition": expected}, (name, dependency)
    for name in BUILT:
        assert {"rabbitmq", "rabbitmq-user"} <= set(SERVICES[name]["depends_on"]), name
    assert "redis" in SERVICES["api"]["depends_on"]
    assert "redis" in SERVICES["worker"]["depends_on"]


def secret_sources() -> set[str]:
    """The variables of .env the stack's secrets are made of."""
    return {secret["environment"] for secret in COMPOSE["secrets"].values()}


def test_every_variable_compose_uses_is_documented_in_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_TEXT)) | secret_sources()
    assert used <= documented()
    assert "RABBITMQ_DEFAULT_PASS" in used


def test_secrets_reach_the_services_as_files_and_only_placeholders_are_committed() -> None:
    for secret in ("RABBITMQ_DEFAULT_PASS", "REDIS_PASSWORD", "FLOWER_BASIC_AUTH", "GRAFANA_ADMIN_PASSWORD"):
        assert secret in secret_sources()
        # Never interpolated into a command line, a container's environment or `docker compose config`.
        assert f"${{{secret}" not in COMPOSE_TEXT
    assert "${RABBITMQ_DEFAULT_USER:?set it in .env}" in COMPOSE_TEXT
    values = env_example()
    assert values["RABBITMQ_DEFAULT_PASS"] == values["REDIS_PASSWORD"] == values["GRAFANA_ADMIN_PASSWORD"]
    assert values["REDIS_PASSWORD"] == "changethis"
    assert values["FLOWER_BASIC_AUTH"].endswith(":changethis")


def test_the_real_env_file_is_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored


def test_the_services_run_in_production_against_the_stack() -> None:
    for name in BUILT:
        environment = SERVICES[name]["environment"]
        assert environment["ENVIRONMENT"] == "production"
        assert environment["RABBITMQ_HOST"] == "rabbitmq"
        assert environment["RABBITMQ_VHOST"] == DEFAULT_VHOST
        # Redis asks for a password: the services read it from its secret into this URL.
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert {"RABBITMQ_DEFAULT_PASS", "REDIS_PASSWORD"} <= set(SERVICES[name]["secrets"])
    assert SERVICES["rabbitmq-user"]["environment"]["RABBITMQ_VHOST"] == DEFAULT_VHOST
    assert SERVICES["rabbitmq-user"]["secrets"] == ["RABBITMQ_DEFAULT_PASS"]


def test_redis_takes_its_password_from_its_secret_on_standard_input() -> None:
    redis = SERVICES["redis"]
    assert redis["secrets"] == ["REDIS_PASSWORD"]
    script = redis["entrypoint"][-1]
    assert "$$(cat /run/secrets/REDIS_PASSWORD)" in script
    # `-` as the last argument: the configuration on standard input holds requirepass; no argument does.
    assert (
        'exec docker-entrypoint.sh redis-server --appendonly "${REDIS_APPENDONLY:-no}" --save "" - <<EOF'
        in script
    )
    assert 'requirepass "$$password"' in script
    assert "--requirepass" not in COMPOSE_TEXT
    assert "cat /run/secrets/REDIS_PASSWORD" in " ".join(redis["healthcheck"]["test"])


def test_rabbitmq_mounts_the_rendered_files() -> None:
    # test_rabbitmq_files checks these host copies against a fresh render; here, that they are mounted.
    volumes = SERVICES["rabbitmq"]["volumes"]
    mounts = dict(volume.split(":")[:2] for volume in volumes if volume.startswith("./"))
    rendered = rendered_files(DEFAULT_VHOST, discover())
    assert mounts == {f"./packages/ops/rabbitmq/{name}": f"/etc/rabbitmq/{name}" for name in rendered}
    assert DEFINITIONS_MOUNT in mounts.values()


def test_every_mounted_host_file_exists() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            if volume.startswith("./"):
                assert (ROOT / volume.split(":")[0]).is_file(), volume


@pytest.mark.parametrize(("service", "package"), sorted(BUILT.items()))
def test_each_image_is_the_one_dockerfile_built_for_its_package(service: str, package: str) -> None:
    build = SERVICES[service]["build"]
    assert (build["context"], build["dockerfile"]) == (".", "Dockerfile")
    extras = [
        extra for extra in pyproject(package)["project"].get("optional-dependencies", {}) if extra != "test"
    ]
    expected = {"PACKAGE": package, **({"EXTRAS": ",".join(extras)} if extras else {})}
    assert build["args"] == expected
    assert SERVICES[service]["image"] == IMAGES[service]
    # The image runs `taskgate-<package>`: the console script the package installs.
    assert f"taskgate-{package}" in pyproject(package)["project"]["scripts"]
    assert not list((ROOT / "packages" / package).glob("Dockerfile*"))


def test_the_dockerfile_is_multi_stage_slim_locked_non_root() -> None:
    lines = DOCKERFILE.splitlines()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in lines
    stages = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert stages == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    # The dependencies' layer from the lock and the pyproject files alone, before any source.
    copies = [line for line in lines if line.startswith("COPY ")]
    pyprojects = [
        f"COPY packages/{path.parent.name}/pyproject.toml packages/{path.parent.name}/"
        for path in sorted((ROOT / "packages").glob("*/pyproject.toml"))
    ]
    assert copies[0] == "COPY pyproject.toml uv.lock ./"
    assert sorted(copies[1 : 1 + len(pyprojects)]) == pyprojects
    syncs = [line for line in lines if "uv sync" in line]
    assert len(syncs) == 2
    assert all("--frozen" in line and '--package "taskgate-${PACKAGE}"' in line for line in syncs)
    assert "--no-install-workspace" in syncs[0]
    assert DOCKERFILE.index(syncs[0]) < DOCKERFILE.index("COPY packages/contracts packages/contracts")
    assert 'ln -s "taskgate-${PACKAGE}" /opt/taskgate/bin/taskgate-service' in DOCKERFILE
    (user,) = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user not in {"root", "0"}
    assert 'ENTRYPOINT ["taskgate-service"]' in lines


def _mounts(service: str) -> dict[str, str]:
    volumes = SERVICES[service]["volumes"]
    return dict(volume.split(":")[:2] for volume in volumes if volume.startswith("./"))


def test_prometheus_loads_the_shipped_rules_and_scrapes_the_api_flower_and_rabbitmq() -> None:
    mounts = _mounts("prometheus")
    assert mounts[f"./{SHIPPED}/alerts.yml"] == "/etc/prometheus/alerts.yml"
    assert (ROOT / SHIPPED / "alerts.yml").read_bytes() == ALERT_RULES.read_bytes()
    config_path = next(host for host, inside in mounts.items() if inside == "/etc/prometheus/prometheus.yml")
    config = yaml.safe_load((ROOT / config_path).read_text(encoding="utf-8"))
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    targets = {
        job["job_name"]: (job["static_configs"][0]["targets"], job["metrics_path"])
        for job in config["scrape_configs"]
    }
    assert targets == {
        "api": (["api:8000"], "/metrics"),
        "flower": (["flower:5555"], "/metrics"),
        "rabbitmq": (["rabbitmq:15692"], "/metrics/per-object"),
    }
    # RabbitMQ serves those metrics through the plugin the rendered files enable.
    assert "rabbitmq_prometheus" in rendered_files(DEFAULT_VHOST, discover())["enabled_plugins"]


def test_prometheus_takes_its_api_key_from_its_secret() -> None:
    prometheus = SERVICES["prometheus"]
    assert prometheus["secrets"] == ["METRICS_API_KEY"]
    assert "environment" not in prometheus
    config = yaml.safe_load((ROOT / "packages/ops/monitoring/prometheus.yml").read_text(encoding="utf-8"))
    (api,) = [job for job in config["scrape_configs"] if job["job_name"] == "api"]
    assert api["authorization"] == {"credentials_file": "/run/secrets/METRICS_API_KEY"}


def test_grafana_takes_its_admin_password_from_its_secret() -> None:
    grafana = SERVICES["grafana"]
    assert grafana["secrets"] == ["GRAFANA_ADMIN_PASSWORD"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/GRAFANA_ADMIN_PASSWORD"
    assert "[ -s /run/secrets/GRAFANA_ADMIN_PASSWORD ]" in grafana["entrypoint"][-1]


def test_grafana_is_provisioned_with_the_datasource_and_the_shipped_dashboard() -> None:
    mounts = _mounts("grafana")
    assert mounts[f"./{SHIPPED}/dashboard.json"] == "/var/lib/grafana/dashboards/taskgate.json"
    assert (ROOT / SHIPPED / "dashboard.json").read_bytes() == DASHBOARD.read_bytes()
    by_target = {inside: host for host, inside in mounts.items()}
    provider = yaml.safe_load(
        (ROOT / by_target["/etc/grafana/provisioning/dashboards/taskgate.yml"]).read_text(encoding="utf-8")
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    datasources = yaml.safe_load(
        (ROOT / by_target["/etc/grafana/provisioning/datasources/taskgate.yml"]).read_text(encoding="utf-8")
    )
    (source,) = datasources["datasources"]
    assert (source["type"], source["url"], source["isDefault"]) == (
        "prometheus",
        "http://prometheus:9090",
        True,
    )


def test_the_built_services_log_json_and_trace_when_a_collector_is_named() -> None:
    for name in BUILT:
        assert SERVICES[name]["environment"]["LOG_FORMAT"] == "${LOG_FORMAT:-json}"
    for name in ("api", "worker"):
        endpoint = SERVICES[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert endpoint == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
