"""`nox -s wheels`: the four packages as users get them.

    python -m release.wheels WORKDIR

Builds every package (sdist, then the wheel from it), checks that each wheel holds every file git tracks
under the package's `src/` (modules, `py.typed`, data files) and that the wheel and the sdist carry the
LICENSE, installs the wheels into a fresh venv away
from the source tree, checks there that every console script starts and that `taskgate-ops rabbitmq
render` reproduces the RabbitMQ files committed for compose, and runs the end-to-end seed scenario and the
contract-version check on real RabbitMQ and Redis.
"""

import configparser
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from release import gitrefs
from release.build import Built, build
from release.project import PACKAGES, ROOT, Package, ReleaseError, run, step, workdir_main
from release.trial import Trial

#: The RabbitMQ files compose mounts, committed in the ops package; the installed wheel must render them.
OPS_RENDERED = Path("packages", "ops", "rabbitmq")
SCENARIO = ("tests/test_seed_examples.py", "release/scenario")


def required_files(package: Package, repo: Path) -> set[str]:
    """The paths the wheel must hold: every file tracked under `src/`, and `py.typed` whatever git says."""
    tracked = {str(path) for path in gitrefs.tracked_files(repo, package.folder / "src")}
    return tracked | {f"{package.import_name}/py.typed"}


def missing_from_wheel(wheel: Path, required: set[str]) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(required - set(archive.namelist()))


def licenses(built: Built) -> list[str]:
    """What lacks the LICENSE file: the wheel (in `<dist-info>/licenses/`, PEP 639) or the sdist."""
    with zipfile.ZipFile(built.wheel) as archive:
        in_wheel = any(
            PurePosixPath(name).parts[1:] == ("licenses", "LICENSE") for name in archive.namelist()
        )
    with tarfile.open(built.sdist) as archive:
        in_sdist = any(PurePosixPath(name).parts[1:] == ("LICENSE",) for name in archive.getnames())
    return [
        f"{path.name} lacks LICENSE"
        for path, held in ((built.wheel, in_wheel), (built.sdist, in_sdist))
        if not held
    ]


def console_scripts(wheel: Path) -> list[str]:
    """The console scripts a wheel declares in its entry points."""
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if PurePosixPath(name).name == "entry_points.txt"]
        if not names:
            return []
        entry_points = configparser.ConfigParser(delimiters=("=",))
        entry_points.read_string(archive.read(names[0]).decode())
    return sorted(entry_points["console_scripts"]) if entry_points.has_section("console_scripts") else []


def rendering_drift(rendered: Path, committed: Path) -> list[str]:
    """How the files rendered by the installed ops differ from the committed ones; empty when they match."""
    problems = []
    for path in sorted(path for path in committed.iterdir() if path.is_file()):
        fresh = rendered / path.name
        if not fresh.is_file():
            problems.append(f"{path.name}: not rendered by the installed taskgate-ops")
        elif fresh.read_text() != path.read_text():
            problems.append(f"{path.name}: rendered by the installed taskgate-ops differs from {path}")
    return problems


def _check_contents(built: list[Built]) -> None:
    problems = [
        f"{item.wheel.name} lacks {path}"
        for item in built
        for path in missing_from_wheel(item.wheel, required_files(item.package, ROOT))
    ]
    problems += [problem for item in built for problem in licenses(item)]
    if problems:
        raise ReleaseError("files missing from the wheels and sdists:\n" + "\n".join(problems))
    for item in built:
        print(f"    {item.wheel.name}: every tracked source file, py.typed and the LICENSE are inside")


def _check_installed(trial: Trial, built: list[Built]) -> None:
    for script in [script for item in built for script in console_scripts(item.wheel)]:
        run([trial.bin / script, "--help"], cwd=trial.folder, env=trial.environment(), capture=True)
        print(f"    {script} --help: starts")
    # Compose's single node boots the classic render, deploy/k8s's cluster the quorum one beside it.
    for queue_type, committed in (("classic", OPS_RENDERED), ("quorum", OPS_RENDERED / "quorum")):
        rendered = trial.folder / "rendered" / queue_type
        run(
            [
                trial.python,
                "-m",
                "taskgate_ops",
                "rabbitmq",
                "render",
                "--queue-type",
                queue_type,
                "--out",
                rendered,
            ],
            cwd=trial.folder,
            capture=True,
        )
        drift = rendering_drift(rendered, ROOT / committed)
        if drift:
            raise ReleaseError("\n".join(drift))
        print(f"    taskgate-ops rabbitmq render --queue-type {queue_type} reproduces {committed}")


def check_wheels(work: Path) -> str:
    with step("build sdists and wheels"):
        built = [build(Package(name), ROOT, work / "dist") for name in PACKAGES]
    with step("check what each wheel holds"):
        _check_contents(built)
    with step("install the wheels into a fresh venv"):
        trial = Trial.create(work / "trial", [item.requirement for item in built])
    with step("check the installed packages"):
        _check_installed(trial, built)
    with step("end-to-end scenario on the installed wheels"):
        trial.run_scenario(SCENARIO, {item.package.distribution: item.wheel for item in built})
    return "the four wheels hold what they must and run the seed scenario without the source tree"


if __name__ == "__main__":
    raise SystemExit(workdir_main(None, "release.wheels", check_wheels))
