"""What a run leaves behind: the table on the terminal, and the JSON document under bench/results/."""

import json
import os
import platform
import subprocess
from dataclasses import asdict
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import psutil
from redis import Redis
from rich.console import Console
from rich.table import Table

from bench import infra, wrk
from bench.run import Results
from bench.targets import Figure
from testkit.infrastructure import MANAGEMENT_URL, RABBITMQ_PASSWORD, RABBITMQ_USER

_DISTRIBUTIONS = (
    "taskgate-api",
    "taskgate-worker",
    "taskgate-contracts",
    "celery",
    "kombu",
    "redis",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
)


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    with httpx.Client(auth=(RABBITMQ_USER, RABBITMQ_PASSWORD), timeout=10.0) as management:
        overview = management.get(f"{MANAGEMENT_URL}/api/overview").json()
    redis = Redis.from_url(infra.REDIS_URL)
    try:
        redis_version = redis.info("server")["redis_version"]
    finally:
        redis.close()
    wrk_banner = subprocess.run([wrk.wrk_path(), "--version"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rabbitmq": overview.get("rabbitmq_version"),
        "erlang": overview.get("erlang_version"),
        "redis": redis_version,
        "wrk": wrk_banner.stdout.splitlines()[0] if wrk_banner.stdout else "",
        "packages": {name: metadata.version(name) for name in _DISTRIBUTIONS},
    }


def source(root: Path) -> dict[str, Any]:
    """The commit the run measured, and the packages whose files differed from it: a run on a working
    tree measures code that no commit holds, and its JSON should say so."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout

    changed = {line[3:].split("/")[1] for line in git("status", "--porcelain", "--", "packages").splitlines()}
    return {"commit": git("rev-parse", "HEAD").strip(), "changed_packages": sorted(changed)}


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def document(
    results: Results,
    started: datetime,
    seconds: float,
    groups: list[str],
    load_at_start: tuple[float, ...],
    root: Path,
) -> dict[str, Any]:
    """The run as JSON; the load averages at its start and end say how much else the machine was doing."""
    return {
        "run": started.strftime("%Y%m%dT%H%M%SZ"),
        "started_at": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "groups": groups,
        "source": source(root),
        "machine": machine(),
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
        "baseline": results.baseline,
        "curve": results.curve,
        "scenarios": [
            {
                "name": scenario.name,
                "figures": [asdict(figure) for figure in scenario.figures],
                "raw": scenario.raw,
            }
            for scenario in results.scenarios
        ],
        "missed": missed(results),
    }


def missed(results: Results) -> list[str]:
    return [
        f"{scenario.name} — {_describe(figure)}"
        for scenario in results.scenarios
        for figure in scenario.missed
    ]


def write(doc: dict[str, Any], folder: Path, latest: bool) -> Path:
    """The run's own file, named by its start time; and latest.json when the run was complete."""
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    path = folder / f"{doc['run']}.json"
    path.write_text(text)
    if latest:
        (folder / "latest.json").write_text(text)
    return path


#: docs/performance.md keeps the last complete run between these lines; the bench rewrites it.
DOC_BEGIN = "<!-- bench:last-run:begin -->"
DOC_END = "<!-- bench:last-run:end -->"


def update_doc(doc: dict[str, Any], path: Path) -> None:
    """Put the run's machine, table and misses into the document, between DOC_BEGIN and DOC_END."""
    text = path.read_text()
    head, begin, rest = text.partition(DOC_BEGIN)
    _, end, tail = rest.partition(DOC_END)
    if not begin or not end:
        raise RuntimeError(f"{path} has no {DOC_BEGIN} … {DOC_END} section for the run's table")
    path.write_text(f"{head}{DOC_BEGIN}\n{markdown(doc)}{DOC_END}{tail}")


def markdown(doc: dict[str, Any]) -> str:
    machine = doc["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    start, end = (", ".join(f"{value:.2f}" for value in doc["load_average"][at]) for at in ("start", "end"))
    code = doc["source"]
    changed = ", ".join(code["changed_packages"])
    lines = [
        f"Run `{doc['run']}` ({doc['seconds']:.0f} s; `bench/results/{doc['run']}.json`) of commit "
        f"`{code['commit'][:10]}`" + (f" with uncommitted changes in {changed}" if changed else "") + ", on "
        f"{machine['cpus']} × {machine['cpu_model']}, {machine['memory_gb']} GB, Linux {machine['kernel']}, "
        f"Python {machine['python']}, RabbitMQ {machine['rabbitmq']} (Erlang {machine['erlang']}), "
        # wrk's banner goes on with its build and copyright after the version
        f"Redis {machine['redis']}, {machine['wrk'].split(' [', 1)[0]}; {packages}. "
        f"Load average (1, 5, 15 min) at the start: {start}; at the end: {end}.",
        "",
        "| scenario | figure | measured | target | |",
        "|---|---|---|---|---|",
    ]
    for scenario in doc["scenarios"]:
        for index, raw in enumerate(scenario["figures"]):
            figure = Figure(**raw)
            verdict = "" if figure.ok is None else ("met" if figure.ok else "**missed**")
            name = scenario["name"] if index == 0 else ""
            lines.append(f"| {name} | {figure.name} | {_value(figure)} | {figure.target} | {verdict} |")
    lines.append("")
    missed = doc["missed"]
    lines.append(f"Missed: {len(missed)}." if missed else "Every target met.")
    lines += [f"- {line}" for line in missed]
    return "\n".join(lines) + "\n"


def print_table(results: Results, console: Console) -> None:
    table = Table(title="taskgate benchmark", show_lines=False)
    for column in ("scenario", "figure", "measured", "target", ""):
        table.add_column(column)
    for scenario in results.scenarios:
        for index, figure in enumerate(scenario.figures):
            table.add_row(
                scenario.name if index == 0 else "",
                figure.name,
                _value(figure),
                figure.target,
                _verdict(figure),
                end_section=index == len(scenario.figures) - 1,
            )
    console.print(table)


def _value(figure: Figure) -> str:
    if figure.value is None:
        return "not measured"
    return f"{figure.value:.4g} {figure.unit}".rstrip()


def _verdict(figure: Figure) -> str:
    if figure.ok is None:
        return ""
    return "[green]met[/green]" if figure.ok else "[bold red]MISSED[/bold red]"


def _describe(figure: Figure) -> str:
    return f"{figure.name}: {_value(figure)}, target {figure.target}"
