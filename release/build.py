"""Building a package as a release does: `uv build` makes the sdist, then the wheel from that sdist, so a
file the sdist leaves out is missing from the wheel too."""

import shutil
from dataclasses import dataclass
from pathlib import Path

from release.project import Package, ReleaseError, run


@dataclass(frozen=True)
class Built:
    package: Package
    wheel: Path
    sdist: Path

    @property
    def requirement(self) -> str:
        """The wheel with the extras of its task types (the thumbnail type's Pillow), so a trial's worker
        can host every type taskgate ships."""
        extras = self.package.task_type_extras
        return f"{self.wheel}[{','.join(extras)}]" if extras else str(self.wheel)


def build(package: Package, source_root: Path, out: Path) -> Built:
    """Build `package` from the tree at `source_root` into `out/<package>/`."""
    target = out / package.name
    shutil.rmtree(target, ignore_errors=True)
    run(["uv", "build", "--quiet", source_root / package.folder, "--out-dir", target])
    wheels, sdists = sorted(target.glob("*.whl")), sorted(target.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise ReleaseError(f"building {package.distribution} left {wheels + sdists} in {target}")
    return Built(package, wheels[0], sdists[0])
