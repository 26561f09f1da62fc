"""deploy/k8s as the cluster would receive it: each kustomization rendered by kustomize (kubectl's own,
v5), and the facts the checks compare — which objects there are, what each container reads, where the
packages' settings and the compose file say things should be."""

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic_settings import BaseSettings

from taskgate_api.config import ApiSettings
from taskgate_contracts import TaskSpec
from taskgate_contracts.builtin import SPECS
from taskgate_ops.config import OpsSettings
from taskgate_worker.config import WorkerSettings

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
#: Every kustomization a user may apply: the base and each overlay.
KUSTOMIZATIONS = [
    K8S / "base",
    *sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml")),
]
SECRET_NAME = "taskgate-secrets"
SECRET_KEYS_FILE = K8S / "secrets.env.example"
#: `$(NAME)` in an env value: Kubernetes puts the value of an earlier variable there.
_REFERENCE = re.compile(r"\$\((\w+)\)")

Manifest = dict[str, Any]
SettingsT = TypeVar("SettingsT", bound=BaseSettings)


class RenderError(RuntimeError):
    """kustomize refused a kustomization; the message is its own."""


def kustomize_command() -> list[str]:
    """The `kustomize` program if installed, else kubectl's built-in one."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise RenderError("neither kustomize nor kubectl is installed: apt-get install kubectl")


@cache
def render(kustomization: Path) -> tuple[Manifest, ...]:
    result = subprocess.run(
        [*kustomize_command(), str(kustomization)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


def find(manifests: tuple[Manifest, ...], kind: str, name: str | None = None) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind and name in (None, m["metadata"]["name"])]


def one(manifests: tuple[Manifest, ...], kind: str, name: str) -> Manifest:
    (found,) = find(manifests, kind, name)
    return found


def pod_templates(manifests: tuple[Manifest, ...]) -> Iterator[tuple[Manifest, Manifest]]:
    """(workload, pod spec) of every Deployment, StatefulSet and Job."""
    for manifest in manifests:
        if manifest["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield manifest, manifest["spec"]["template"]["spec"]


def generated_name(manifests: tuple[Manifest, ...], kind: str, name: str) -> str:
    """The name kustomize gave a generated object (`name-<hash>`)."""
    (found,) = [
        m for m in manifests if m["kind"] == kind and re.fullmatch(rf"{name}(-\w+)?", m["metadata"]["name"])
    ]
    return str(found["metadata"]["name"])


@cache
def example_secrets() -> dict[str, str]:
    """The Secret's keys, from secrets.env.example; a stand-in for each placeholder production refuses."""
    pairs = (line.split("=", 1) for line in SECRET_KEYS_FILE.read_text().splitlines() if "=" in line)
    return {
        key: value.replace("changethis", "a-real-secret") for key, value in pairs if not key.startswith("#")
    }


@dataclass(frozen=True)
class Container:
    """A container and the environment it would start with (secrets from secrets.env.example)."""

    workload: str
    spec: Manifest
    env: dict[str, str]
    #: Variables whose value comes from the Secret, directly or through `$(NAME)`.
    secret: frozenset[str]
    #: Variables only there to be put into another's value through `$(NAME)`.
    helpers: frozenset[str]

    @property
    def settings(self) -> dict[str, str]:
        """The variables that are settings (not only put into another's value)."""
        return {name: value for name, value in self.env.items() if name not in self.helpers}

    @property
    def image(self) -> str:
        return str(self.spec["image"]).rpartition(":")[0] or str(self.spec["image"])


def containers(manifests: tuple[Manifest, ...]) -> Iterator[Container]:
    config_maps = {m["metadata"]["name"]: m.get("data", {}) for m in find(manifests, "ConfigMap")}
    for workload, pod in pod_templates(manifests):
        for spec in pod["containers"]:
            yield _container(workload["metadata"]["name"], spec, config_maps)


def _container(workload: str, spec: Manifest, config_maps: Mapping[str, Mapping[str, str]]) -> Container:
    env: dict[str, str] = {}
    secret: set[str] = set()
    for source in spec.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    helpers = set()
    for variable in spec.get("env", []):
        name, value_from = variable["name"], variable.get("valueFrom", {})
        if "secretKeyRef" in value_from:
            env[name] = example_secrets()[value_from["secretKeyRef"]["key"]]
            secret.add(name)
        elif "configMapKeyRef" in value_from:
            reference = value_from["configMapKeyRef"]
            env[name] = config_maps[reference["name"]][reference["key"]]
        elif "fieldRef" in value_from:
            env[name] = f"<{value_from['fieldRef']['fieldPath']}>"
        else:
            value = str(variable.get("value", ""))
            used = set(_REFERENCE.findall(value))
            helpers |= used
            if used & secret:
                secret.add(name)
            env[name] = _REFERENCE.sub(lambda match: env[match.group(1)], value)
    return Container(workload, spec, env, frozenset(secret), frozenset(helpers))


#: What each taskgate image runs, and the settings class it reads its environment with.
SETTINGS: dict[str, type[BaseSettings]] = {
    "taskgate-api": ApiSettings,
    "taskgate-worker": WorkerSettings,
    "taskgate-flower": OpsSettings,
}
#: The images docker-compose.yml builds, by the names it tags them with.
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_images() -> set[str]:
    return {service["image"] for service in COMPOSE["services"].values() if "build" in service}


def settings_names(image: str) -> set[str]:
    """Every environment variable the image's package reads: its settings class's fields, and (for the
    api and the worker) the shipped task types' own settings."""
    names = {name.upper() for name in SETTINGS[image].model_fields}
    if image in ("taskgate-api", "taskgate-worker"):
        names |= {name.upper() for spec in SPECS if spec.settings for name in spec.settings.model_fields}
    return names


def secret_settings(image: str) -> set[str]:
    """The image's settings that hold secrets: typed SecretStr, or holding some (API_KEYS)."""
    return {
        name.upper()
        for name, field in SETTINGS[image].model_fields.items()
        if "SecretStr" in str(field.annotation)
    }


def settings(model: type[SettingsT], container: Container) -> SettingsT:
    """`model` as the container's environment sets it (only that: no `.env`, no variable of the test's)."""
    fields = model.model_fields
    values: dict[str, Any] = {
        name.lower(): value for name, value in container.settings.items() if name.lower() in fields
    }
    return model(_env_file=None, **values)


def worker_queue(container: Container) -> str:
    args = container.spec.get("args", [])
    return str(args[args.index("--queues") + 1])


def specs_of(queue: str) -> list[TaskSpec[Any, Any]]:
    return [spec for spec in SPECS if spec.queue == queue]


#: ops' rendered topology the RabbitmqCluster boots from (packages/ops/kustomization.yaml mounts it).
DEFINITIONS = ROOT / "packages" / "ops" / "rabbitmq" / "quorum" / "definitions.json"


def definitions_queues() -> list[dict[str, Any]]:
    queues: list[dict[str, Any]] = json.loads(DEFINITIONS.read_text())["queues"]
    return queues


def definitions_vhosts() -> set[str]:
    return {queue["vhost"] for queue in definitions_queues()}
