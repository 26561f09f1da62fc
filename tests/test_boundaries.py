"""The installed distributions keep the package boundaries: services meet only through contracts."""

from importlib.metadata import requires, version

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SERVICES = ("taskgate-api", "taskgate-worker")


def requirements(distribution: str) -> list[Requirement]:
    return [Requirement(line) for line in requires(distribution) or []]


def runtime_requirements(distribution: str) -> list[Requirement]:
    """What installing the distribution pulls in: requirements outside any extra."""
    return [req for req in requirements(distribution) if req.marker is None or "extra" not in str(req.marker)]


@pytest.mark.parametrize("distribution", SERVICES)
def test_a_service_names_no_taskgate_package_but_contracts(distribution: str) -> None:
    taskgate = {
        canonicalize_name(req.name)
        for req in requirements(distribution)
        if canonicalize_name(req.name).startswith("taskgate-")
    }

    assert taskgate == {"taskgate-contracts"}


@pytest.mark.parametrize("distribution", SERVICES)
def test_a_service_accepts_a_range_of_contracts_that_holds_the_installed_one(distribution: str) -> None:
    (contracts,) = [
        req for req in requirements(distribution) if canonicalize_name(req.name) == "taskgate-contracts"
    ]

    assert not any(spec.operator in {"==", "==="} for spec in contracts.specifier), contracts
    assert contracts.specifier.contains(version("taskgate-contracts"))


def test_contracts_requires_only_pydantic() -> None:
    names = {canonicalize_name(req.name) for req in runtime_requirements("taskgate-contracts")}

    assert names == {"pydantic"}
