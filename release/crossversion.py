"""The cross-version half of `nox -s compat`: an api and a worker of different releases, one broker.

    python -m release.crossversion WORKDIR

Builds the api and the worker of their last release (`release.last_release`: the newest `<package>-v*` tag,
or, before the first tag, the commit that recorded the newest contract snapshot) and of the working tree,
with the working tree's contracts, and runs the seed scenario twice on real RabbitMQ and Redis: old api
with the new worker, new api with the old worker. A pairing that cannot be installed because the old
package's contracts range excludes the current contracts (a major bump) is reported as not promised.
"""

import shutil
import zipfile
from collections.abc import Sequence
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from release import gitrefs
from release.build import Built, build
from release.last_release import last_release
from release.project import ROOT, Package, step, workdir_main
from release.trial import SEED_SCENARIO, Trial

SCENARIO = (*SEED_SCENARIO, "release/scenario/test_installed.py")


def contracts_range(wheel: Path) -> Requirement | None:
    """The taskgate-contracts requirement a wheel declares, if any."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(metadata).decode())
    for line in message.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.name == "taskgate-contracts":
            return requirement
    return None


def excluded_by(wheels: Sequence[Built], contracts: str) -> str | None:
    """Why contracts `contracts` cannot be installed beside `wheels`, or None when every range admits it."""
    for built in wheels:
        requirement = contracts_range(built.wheel)
        if requirement is not None and not requirement.specifier.contains(contracts, prereleases=True):
            return f"{built.wheel.name} requires {requirement}"
    return None


def _old(package: Package, work: Path) -> Built:
    release = last_release(package, ROOT)
    print(f"    {package.distribution} {release.version}: {release.origin}")
    tree = work / "old-trees" / f"{package.name}-{release.commit[:12]}"
    shutil.rmtree(tree, ignore_errors=True)
    gitrefs.export(ROOT, release.commit, [package.folder], tree)
    return build(package, tree, work / "old")


def _pair(work: Path, title: str, contracts: Built, api: Built, worker: Built) -> None:
    with step(f"seed scenario: {title}"):
        version = str(parse_wheel_filename(contracts.wheel.name)[1])
        reason = excluded_by([api, worker], version)
        if reason is not None:
            # A major bump of the contract announces exactly this: no compatibility is promised across it.
            print(f"    not run: {reason}, and the current contracts are {version} (a major version bump)")
            return
        slug = title.replace(" + ", "-").replace(" ", "-")
        trial = Trial.create(work / slug, [built.requirement for built in (contracts, api, worker)])
        expected = {built.package.distribution: built.wheel for built in (contracts, api, worker)}
        trial.run_scenario(SCENARIO, expected)


def check_cross_version(work: Path) -> str:
    api, worker, contracts = Package("api"), Package("worker"), Package("contracts")
    with step("build the last releases of the api and the worker"):
        old_api, old_worker = _old(api, work), _old(worker, work)
    with step("build contracts, the api and the worker of the working tree"):
        new_contracts, new_api, new_worker = (
            build(package, ROOT, work / "new") for package in (contracts, api, worker)
        )
    _pair(work, "old api + new worker", new_contracts, old_api, new_worker)
    _pair(work, "new api + old worker", new_contracts, new_api, old_worker)
    return "the api and the worker of different releases serve the seed scenario together"


if __name__ == "__main__":
    raise SystemExit(workdir_main(None, "release.crossversion", check_cross_version))
