"""Every object of every kustomization is valid where it will be applied: built-in kinds against the
Kubernetes API's schemas (K8S_VERSION, strict: an unknown field is an error, as `kubectl apply
--validate=strict` makes it), KEDA's kinds against KEDA's CRDs (KEDA_VERSION, from a PyPI package) and the
RabbitMQ operator's against the schema in deploy/k8s/crds (strict too)."""

from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda
from manifests import K8S, KUSTOMIZATIONS, Manifest, render
from pydantic import BaseModel

#: The Kubernetes version the manifests are written for (kubectl's own here is 1.32).
K8S_VERSION = "1.32.0"
#: KEDA's release, as cloudcoil-models-keda's version names it.
KEDA_VERSION = "2.16.1"
KEDA_KINDS: dict[str, type[BaseModel]] = {
    "ScaledObject": keda.ScaledObject,
    "TriggerAuthentication": keda.TriggerAuthentication,
}


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → the openAPIV3Schema of every CRD file in deploy/k8s/crds."""
    schemas = {}
    for path in sorted((K8S / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            api_version = f"{crd['spec']['group']}/{version['name']}"
            schemas[(api_version, crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return schemas


CRD_SCHEMAS = _crd_schemas()


def strict(schema: Any) -> Any:
    """The schema, refusing fields it does not name wherever Kubernetes would prune them."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def unknown_fields(given: Any, kept: Any, path: str = "") -> Iterator[str]:
    """Paths in `given` that a model dropped (`kept` is its dump): fields its schema does not know."""
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield f"{path}.{key}"
            else:
                yield from unknown_fields(value, kept[key], f"{path}.{key}")
    elif isinstance(given, list) and isinstance(kept, list):
        for index, (item, kept_item) in enumerate(zip(given, kept, strict=False)):
            yield from unknown_fields(item, kept_item, f"{path}[{index}]")


def validate_kubernetes(manifest: Manifest) -> None:
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def validate_keda(manifest: Manifest) -> None:
    model = KEDA_KINDS[manifest["kind"]].model_validate(manifest)
    kept = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert list(unknown_fields(manifest, kept)) == [], f"not in KEDA {KEDA_VERSION}'s {manifest['kind']}"


def validate_crd(manifest: Manifest) -> None:
    jsonschema.validate(manifest, strict(CRD_SCHEMAS[(manifest["apiVersion"], manifest["kind"])]))


def validator(manifest: Manifest) -> Callable[[Manifest], None]:
    if manifest["apiVersion"].startswith("keda.sh/"):
        return validate_keda
    if (manifest["apiVersion"], manifest["kind"]) in CRD_SCHEMAS:
        return validate_crd
    return validate_kubernetes


def _objects() -> list[Any]:
    return [
        pytest.param(
            manifest, id=f"{path.relative_to(K8S)}:{manifest['kind']}/{manifest['metadata']['name']}"
        )
        for path in KUSTOMIZATIONS
        for manifest in render(path)
    ]


@pytest.mark.parametrize("manifest", _objects())
def test_every_object_is_valid_for_its_schema(manifest: Manifest) -> None:
    validator(manifest)(manifest)


def test_every_kind_the_operators_add_has_a_schema() -> None:
    kinds = {(m["apiVersion"], m["kind"]) for path in KUSTOMIZATIONS for m in render(path)}
    custom = {
        kind for kind in kinds if not kind[0].startswith(("v1", "apps/", "batch/", "policy/", "networking."))
    }
    assert custom == {("keda.sh/v1alpha1", kind) for kind in KEDA_KINDS} | set(CRD_SCHEMAS)


# The checks themselves, on objects made wrong on purpose: a check that passes everything proves nothing.


def _broken(kind: str, change: Callable[[Manifest], None]) -> Manifest:
    (manifest,) = [m for m in render(K8S / "base") if m["kind"] == kind][:1]
    copy: Manifest = yaml.safe_load(yaml.safe_dump(manifest))
    change(copy)
    return copy


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("Deployment", lambda m: m["spec"].update(replica=2)),
        ("Deployment", lambda m: m["spec"]["template"]["spec"].update(terminationGracePeriodSeconds="30")),
        ("ScaledObject", lambda m: m["spec"].update(minReplicaCout=0)),
        ("ScaledObject", lambda m: m["spec"].update(minReplicaCount="none")),
        ("RabbitmqCluster", lambda m: m["spec"].update(replica=3)),
        ("RabbitmqCluster", lambda m: m["spec"]["rabbitmq"].update(additionalPlugins=["not a plugin"])),
    ],
    ids=[
        "k8s-unknown-field",
        "k8s-wrong-type",
        "keda-unknown-field",
        "keda-wrong-type",
        "crd-unknown-field",
        "crd-wrong-value",
    ],
)
def test_a_wrong_object_is_refused(kind: str, change: Callable[[Manifest], None]) -> None:
    manifest = _broken(kind, change)
    with pytest.raises(
        (kubernetes_validate.ValidationError, jsonschema.ValidationError, AssertionError, ValueError)
    ):
        validator(manifest)(manifest)
