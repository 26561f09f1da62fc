"""Figures and the targets they are held to: what a scenario reports, and whether it met its mark."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure; `ok` is None for a figure that is reported, not held to a target, and
    `value` is None for one that could not be measured."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None

    @property
    def missed(self) -> bool:
        return self.ok is False


def at_most(name: str, value: float, limit: float, unit: str, why: str = "") -> Figure:
    return Figure(name, value, unit, _target("≤", limit, unit, why), value <= limit)


def at_least(name: str, value: float, limit: float, unit: str, why: str = "") -> Figure:
    return Figure(name, value, unit, _target("≥", limit, unit, why), value >= limit)


def within(name: str, low: float, high: float, expected: float, tolerance: float, unit: str) -> Figure:
    """The range [low, high] of a figure lies inside expected ± tolerance; reported as the worse end."""
    worst = low if expected - low > high - expected else high
    ok = expected - tolerance <= low and high <= expected + tolerance
    return Figure(name, worst, unit, f"{expected:g} ± {tolerance:g} {unit}", ok)


def equal(name: str, value: float, expected: float, unit: str, why: str = "") -> Figure:
    return Figure(name, value, unit, _target("=", expected, unit, why), value == expected)


def reported(name: str, value: float, unit: str) -> Figure:
    return Figure(name, value, unit)


def _target(relation: str, limit: float, unit: str, why: str) -> str:
    text = f"{relation} {limit:.4g} {unit}".rstrip()
    return f"{text} ({why})" if why else text


@dataclass
class Scenario:
    """One row group of the table: a scenario, its figures, and its raw measurements for the JSON."""

    name: str
    figures: list[Figure] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    #: Answers the api gave and tasks the workers ran while it was measured: what the CPU is divided by.
    answers: int = 0
    tasks: int = 0

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    @property
    def missed(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.missed]
