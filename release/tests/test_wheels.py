"""What a wheel must hold, and how the installed ops' rendering is compared with the committed files."""

import tarfile
from pathlib import Path

from release.build import Built
from release.project import PACKAGES, ROOT, Package
from release.tests.conftest import Commit, MakeWheel
from release.wheels import console_scripts, licenses, missing_from_wheel, rendering_drift, required_files


def test_every_tracked_source_file_and_py_typed_is_required(repo: Path, commit: Commit) -> None:
    commit(
        {
            "packages/ops/src/taskgate_ops/__init__.py": "",
            "packages/ops/src/taskgate_ops/flowerconfig.py": "port = 5555\n",
            "packages/ops/src/taskgate_ops/rabbitmq/definitions.json": "{}\n",
            "packages/ops/tests/test_ops.py": "",
        },
        "ops",
    )

    assert required_files(Package("ops"), repo) == {
        "taskgate_ops/__init__.py",
        "taskgate_ops/flowerconfig.py",
        "taskgate_ops/rabbitmq/definitions.json",
        "taskgate_ops/py.typed",
    }


def test_a_file_missing_from_the_wheel_is_named(make_wheel: MakeWheel) -> None:
    wheel = make_wheel("taskgate_ops", {"taskgate_ops/__init__.py": ""})

    missing = missing_from_wheel(wheel, {"taskgate_ops/__init__.py", "taskgate_ops/py.typed"})

    assert missing == ["taskgate_ops/py.typed"]


def test_console_scripts_are_read_from_the_entry_points(make_wheel: MakeWheel) -> None:
    entry_points = "[console_scripts]\ntaskgate-ops = taskgate_ops.cli:main\n\n[other]\nx = y:z\n"
    wheel = make_wheel("taskgate_ops", {"taskgate_ops-0.1.0.dist-info/entry_points.txt": entry_points})

    assert console_scripts(wheel) == ["taskgate-ops"]
    assert console_scripts(make_wheel("taskgate_contracts")) == []


def test_rendered_files_that_differ_or_are_missing_are_named(tmp_path: Path) -> None:
    committed, rendered = tmp_path / "committed", tmp_path / "rendered"
    committed.mkdir()
    rendered.mkdir()
    for name in ("rabbitmq.conf", "enabled_plugins", "definitions.json"):
        (committed / name).write_text(name)
    # Another render's folder beside the files (quorum/) is checked on its own.
    (committed / "quorum").mkdir()
    (rendered / "rabbitmq.conf").write_text("rabbitmq.conf")
    (rendered / "enabled_plugins").write_text("[rabbitmq_management].\n")

    differs = f"rendered by the installed taskgate-ops differs from {committed / 'enabled_plugins'}"
    assert rendering_drift(rendered, committed) == [
        "definitions.json: not rendered by the installed taskgate-ops",
        f"enabled_plugins: {differs}",
    ]
    (rendered / "definitions.json").write_text("definitions.json")
    (rendered / "enabled_plugins").write_text("enabled_plugins")
    assert rendering_drift(rendered, committed) == []


def test_the_license_is_looked_for_in_the_wheel_and_the_sdist(make_wheel: MakeWheel, tmp_path: Path) -> None:
    licensed = make_wheel("taskgate_ops", {"taskgate_ops-0.2.0.dist-info/licenses/LICENSE": "MIT"})
    unlicensed = make_wheel("taskgate_api", {"taskgate_api/__init__.py": ""})
    sdist = tmp_path / "taskgate_ops-0.2.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(ROOT / "LICENSE", "taskgate_ops-0.2.0/LICENSE")

    assert licenses(Built(Package("ops"), licensed, sdist)) == []
    assert licenses(Built(Package("api"), unlicensed, sdist)) == [f"{unlicensed.name} lacks LICENSE"]


def test_every_package_carries_the_repository_s_license() -> None:
    for name in PACKAGES:
        assert (ROOT / Package(name).folder / "LICENSE").read_text() == (ROOT / "LICENSE").read_text(), name
