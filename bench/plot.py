"""The plot of a run: delay-0 latency and throughput against clients, sleep-job throughput, the live
followers' lag, throughput beside its reference in each setting, and where the CPU went."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen: draw straight to the file

import matplotlib.pyplot as plt  # imported after choosing the backend
from matplotlib.axes import Axes

from bench.scenarios.delay_zero import THROUGHPUT_SHARE
from bench.scenarios.fanout import LAG_P99_MS


def draw(doc: dict[str, Any], path: Path) -> None:
    curve = doc["curve"]
    baseline = doc["baseline"]
    clients = [point["clients"] for point in curve]
    figure, ((latency_axes, throughput_axes, sleep_axes), (lag_axes, settings_axes, cpu_axes)) = plt.subplots(
        2, 3, figsize=(16, 9.6)
    )
    figure.suptitle(
        f"taskgate benchmark {doc['run']} — {doc['machine']['cpus']} cores, delay-0 jobs unless noted"
    )

    for percentile, style in (("p50", "o-"), ("p90", "s--"), ("p99", "^-")):
        values = [point["latency_ms"][percentile] for point in curve]
        latency_axes.plot(clients, values, style, label=f"api {percentile}")
    for percentile, style in (("p50", ":"), ("p99", "-.")):
        latency_axes.axhline(
            baseline["latency_ms"][percentile],
            color="grey",
            linestyle=style,
            label=f"raw Celery {percentile}, 1 client",
        )
    latency_axes.set(
        xscale="log", yscale="log", xlabel="concurrent clients", ylabel="latency (ms)", title="Latency"
    )
    latency_axes.legend(fontsize="small")

    throughput_axes.plot(clients, [point["per_second"] for point in curve], "o-", label="api")
    rate = baseline["tasks_per_second"]
    throughput_axes.axhline(rate, color="grey", linestyle=":", label="raw Celery (queue drained)")
    throughput_axes.axhline(
        THROUGHPUT_SHARE * rate,
        color="red",
        linestyle="--",
        label=f"target {THROUGHPUT_SHARE:g} × raw Celery",
    )
    throughput_axes.set(
        xscale="log", xlabel="concurrent clients", ylabel="requests per second", title="Throughput"
    )
    throughput_axes.set_ylim(bottom=0)
    throughput_axes.legend(fontsize="small")

    sleep = [scenario["raw"] for scenario in doc["scenarios"] if "jobs_per_second" in scenario["raw"]]
    labels = [str(run["concurrency"]) for run in sleep]
    sleep_axes.bar(labels, [run["jobs_per_second"] for run in sleep], label="measured")
    sleep_axes.plot(
        labels, [0.9 * run["concurrency"] for run in sleep], "r_", markersize=30, mew=2, label="target 90 %"
    )
    sleep_axes.set(xlabel="WORKER_CONCURRENCY", ylabel="jobs per second", title="1 s sleep jobs")
    sleep_axes.legend(fontsize="small")

    _lag(doc, lag_axes)
    _settings(doc, settings_axes)
    _cpu(doc, cpu_axes)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _raw(doc: dict[str, Any], starts: str) -> list[dict[str, Any]]:
    return [scenario["raw"] for scenario in doc["scenarios"] if scenario["name"].startswith(starts)]


def _lag(doc: dict[str, Any], axes: Axes) -> None:
    """The SSE fan-out's lag percentiles against the target on p99."""
    axes.set(title="SSE fan-out: worker's report to the client", ylabel="lag (ms)")
    runs = _raw(doc, "SSE fan-out")
    if not runs:
        axes.text(0.5, 0.5, "not run", ha="center", transform=axes.transAxes)
        return
    lag = runs[0]["lag_ms"]
    names = ["p50", "p90", "p99", "max"]
    axes.bar(names, [lag[name] for name in names])
    axes.axhline(LAG_P99_MS, color="red", linestyle="--", label=f"target: p99 ≤ {LAG_P99_MS} ms")
    axes.set_yscale("log")
    axes.legend(fontsize="small")


def _settings(doc: dict[str, Any], axes: Axes) -> None:
    """Delay-0 throughput in each setting beside the figure it is held to (hatched)."""
    pairs: list[tuple[str, float, float]] = []
    for raw in _raw(doc, "baseline: raw Celery producer, same worker (WORKER_CONCURRENCY 2)"):
        drained = raw["drain"]["tasks"] / raw["drain"]["seconds"]
        pairs += [
            (f"concurrency 2, {run['connections']} conn.", drained, run["per_second"])
            for run in _raw(doc, "delay 0, WORKER_CONCURRENCY 2")
        ]
    for raw in _raw(doc, "two task types at once"):
        pairs.append(("beside thumbnail", raw["alone_per_second"], raw["per_second"]))
    off, on = _raw(doc, "delay 0, tracing off"), _raw(doc, "delay 0, tracing on")
    if off and on:
        pairs.append(("tracing on", off[0]["per_second"], on[0]["per_second"]))
    axes.set(title="delay 0: throughput beside its reference", ylabel="requests per second")
    if not pairs:
        axes.text(0.5, 0.5, "not run", ha="center", transform=axes.transAxes)
        return
    positions = range(len(pairs))
    axes.bar([p - 0.2 for p in positions], [ref for _, ref, _ in pairs], 0.4, hatch="//", label="reference")
    axes.bar([p + 0.2 for p in positions], [got for _, _, got in pairs], 0.4, label="measured")
    axes.set_xticks(list(positions), [name for name, _, _ in pairs], rotation=15, fontsize="small")
    axes.legend(fontsize="small")


def _cpu(doc: dict[str, Any], axes: Axes) -> None:
    """The api's CPU per answer in each scenario that reports it."""
    rows = [
        (_short(scenario["name"]), figure["value"])
        for scenario in doc["scenarios"]
        for figure in scenario["figures"]
        if figure["name"] == "api CPU per answer" and figure["value"] is not None
    ]
    axes.set(title="api CPU per answer (per event in the fan-out)", xlabel="ms")
    axes.barh([name for name, _ in rows], [value for _, value in rows])
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize="x-small")


def _short(name: str, width: int = 44) -> str:
    """A scenario's name cut to fit beside the bars, its backticks dropped."""
    name = name.replace("`", "")
    return name if len(name) <= width else name[: width - 1] + "…"
