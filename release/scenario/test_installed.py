"""The packages under test are the wheels the session built, not the source tree."""

import json
import os
import sysconfig
from importlib import import_module
from importlib.metadata import distribution
from pathlib import Path

from release.project import ROOT
from release.trial import EXPECTED_WHEELS


def test_every_package_under_test_was_installed_from_its_wheel() -> None:
    expected: dict[str, str] = json.loads(os.environ[EXPECTED_WHEELS])
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()

    assert expected, "the session named no wheel"
    for name, wheel in expected.items():
        origin = json.loads(distribution(name).read_text("direct_url.json") or "{}")
        assert origin.get("url") == Path(wheel).as_uri(), (name, origin)
        module = Path(import_module(name.replace("-", "_")).__file__ or "").resolve()
        assert module.is_relative_to(site_packages), (name, module)
        assert not module.is_relative_to(ROOT / "packages"), (name, module)
