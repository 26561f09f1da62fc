"""Summaries of measured latencies."""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles of a set of latencies, in milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of_seconds(cls, samples: Sequence[float]) -> "Latency":
        if not samples:
            raise ValueError("no latencies measured")
        ordered = sorted(sample * 1000 for sample in samples)
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            p99=percentile(ordered, 99),
            max=ordered[-1],
            mean=statistics.fmean(ordered),
        )


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of sorted samples."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
