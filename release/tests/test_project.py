"""Packages, versions and changelog entries as the release tooling reads them."""

import tomllib

import pytest
from packaging.requirements import Requirement

from release.project import PACKAGES, ROOT, Package, ReleaseError, changelog_heading, parse_version, run

CHANGELOG = """# Changelog — taskgate-api

## 0.10.0 — 2026-12-01

- Later.

## 0.1.0 — unreleased

- First.
"""


def test_a_package_knows_its_names_paths_and_tag() -> None:
    api = Package("api")

    assert (api.distribution, api.import_name, api.tag("0.3.0")) == (
        "taskgate-api",
        "taskgate_api",
        "api-v0.3.0",
    )
    assert str(api.version_file) == "packages/api/src/taskgate_api/version.py"


def test_an_unknown_package_is_refused_with_the_known_ones() -> None:
    with pytest.raises(
        ReleaseError, match="unknown package 'web': one of api, client, contracts, ops, worker"
    ):
        Package("web")


def test_the_version_is_read_from_version_py() -> None:
    assert parse_version('"""Version."""\n__version__ = "1.2.3"\n', "version.py") == "1.2.3"
    with pytest.raises(ReleaseError, match=r"version\.py assigns no __version__"):
        parse_version("VERSION = 1\n", "version.py")


@pytest.mark.parametrize(
    ("version", "heading"),
    [("0.10.0", "## 0.10.0 — 2026-12-01"), ("0.1.0", "## 0.1.0 — unreleased"), ("0.1", None), ("0.10", None)],
)
def test_a_changelog_entry_is_found_by_its_exact_version(version: str, heading: str | None) -> None:
    assert changelog_heading(CHANGELOG, version) == heading


def test_a_failing_command_is_an_error_that_names_it() -> None:
    with pytest.raises(ReleaseError, match="`git no-such-command` failed with exit code 1"):
        run(["git", "no-such-command"], capture=True)
    with pytest.raises(ReleaseError, match="taskgate-no-such-tool is not installed"):
        run(["taskgate-no-such-tool"])


def test_the_workspace_configuration_names_every_package_and_no_other() -> None:
    """The lists the root pyproject.toml keeps by hand (TOML cannot derive them) against packages/*."""
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tool = workspace["tool"]
    distributions = {Package(name).distribution for name in PACKAGES}
    imports = {Package(name).import_name for name in PACKAGES}
    # Each with the extras its task types need, so uv.lock pins what the images ship.
    required = [Requirement(line) for line in workspace["project"]["dependencies"]]
    assert {requirement.name for requirement in required} == distributions
    assert {requirement.name: sorted(requirement.extras) for requirement in required} == {
        Package(name).distribution: Package(name).task_type_extras for name in PACKAGES
    }
    assert set(tool["uv"]["sources"]) == distributions
    # Beside the packages' sources, mypy finds the example plug-in's and the manifests' check helpers.
    package_sources = {path for path in tool["mypy"]["mypy_path"] if path.startswith("packages/")}
    assert package_sources == {f"{Package(name).folder}/src" for name in PACKAGES}
    assert set(tool["ruff"]["lint"]["isort"]["known-first-party"]) == imports
    assert set(tool["importlinter"]["root_packages"]) == imports
    assert set(PACKAGES) >= {"contracts", "api", "worker", "ops", "client"}


def test_the_extras_of_the_task_types_come_from_pyproject() -> None:
    assert Package("worker").task_type_extras == ["thumbnail"]
    assert Package("api").task_type_extras == []
