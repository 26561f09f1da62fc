"""When the old side of a pairing cannot be installed with the current contracts at all."""

from release.build import Built
from release.crossversion import contracts_range, excluded_by
from release.project import Package
from release.tests.conftest import MakeWheel


def test_the_contracts_range_is_read_from_the_wheel(make_wheel: MakeWheel) -> None:
    wheel = make_wheel(requires=("celery>=5.4", "taskgate-contracts<1,>=0.1"))

    assert str(contracts_range(wheel)) == "taskgate-contracts<1,>=0.1"
    assert contracts_range(make_wheel("taskgate_contracts", requires=("pydantic>=2",))) is None


def test_a_major_bump_of_the_contract_excludes_the_old_side(make_wheel: MakeWheel) -> None:
    wheel = make_wheel(requires=("taskgate-contracts>=0.1,<1",))
    old = Built(Package("api"), wheel, sdist=wheel)

    assert excluded_by([old], "0.7.0") is None
    assert (
        excluded_by([old], "1.0.0")
        == "taskgate_api-0.1.0-py3-none-any.whl requires taskgate-contracts<1,>=0.1"
    )
