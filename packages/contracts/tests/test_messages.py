"""The contract version every task message carries, and how its major part is read."""

import pytest

from taskgate_contracts import __version__
from taskgate_contracts.messages import CONTRACT_VERSION_HEADER, major_version, message_headers


def test_every_message_names_the_contract_version_it_was_written_with() -> None:
    assert message_headers() == {CONTRACT_VERSION_HEADER: __version__}
    assert CONTRACT_VERSION_HEADER == "taskgate-contract"


@pytest.mark.parametrize(
    ("version", "major"), [("0.1.0", 0), ("1.4.2", 1), ("2.0.0rc1", 2), ("10", 10), (" 3.1 ", 3)]
)
def test_major_version(version: str, major: int) -> None:
    assert major_version(version) == major


@pytest.mark.parametrize("version", ["", "v1.0.0", "x.y", "١.0.0", ".1", "-1.0"])
def test_what_is_not_a_version_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="is not a version"):
        major_version(version)
