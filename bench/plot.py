"""The plot of a run: delay-0 latency and throughput against clients, and sleep-job throughput."""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen: draw straight to the file

import matplotlib.pyplot as plt  # imported after choosing the backend


def draw(doc: dict[str, Any], path: Path) -> None:
    curve = doc["curve"]
    baseline = doc["baseline"]
    clients = [point["clients"] for point in curve]
    figure, (latency_axes, throughput_axes, sleep_axes) = plt.subplots(1, 3, figsize=(16, 4.8))
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
    throughput_axes.axhline(0.75 * rate, color="red", linestyle="--", label="target 0.75 × raw Celery")
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

    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
