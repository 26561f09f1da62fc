"""The contract as JSON Schemas, one snapshot per released version.

Everything that crosses a process boundary is here: what HTTP clients get back (`responses`, `events`),
and, for each task type taskgate ships, what clients send and the api and the worker pass through
RabbitMQ and Redis (`tasks`: its Celery name, queue, argument and result schemas, and the progress it
reports). Task types of other packages are theirs to version. A release writes
`<out>/<version>/<group>.json` and commits it; `nox -s compat` checks every later contract against each
committed snapshot, so a change that would break a released api or worker is caught before it ships.

    python -m taskgate_contracts.schemas                     # print the current contract
    python -m taskgate_contracts.schemas --out DIR           # write DIR/<version>/*.json
    python -m taskgate_contracts.schemas --check DIR         # is DIR/<version>/ the current contract?
"""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from taskgate_contracts import builtin, history, responses
from taskgate_contracts.events import TaskEvent
from taskgate_contracts.progress import PROGRESS_STATE, Progress
from taskgate_contracts.snapshots import SnapshotCommand
from taskgate_contracts.tasks import TaskSpec
from taskgate_contracts.version import __version__

Schema = dict[str, Any]
#: Group name (the file's stem) to the named schemas in it.
Contract = dict[str, dict[str, Schema]]

#: Every model the responses and history modules define: a model added there is in the contract without
#: a list to keep.
_RESPONSES: tuple[type[BaseModel], ...] = tuple(
    model
    for module in (responses, history)
    for model in vars(module).values()
    if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == module.__name__
)


def _models(models: Iterable[type[BaseModel]]) -> dict[str, Schema]:
    return {model.__name__: model.model_json_schema() for model in models}


def _task(spec: TaskSpec[Any, Any]) -> Schema:
    return {
        "queue": spec.queue,
        "arguments": spec.args.model_json_schema(),
        "result": spec.result.model_json_schema(),
        "progress": {"state": PROGRESS_STATE, "meta": Progress.model_json_schema()},
    }


def export() -> Contract:
    """The current contract, group by group."""
    return {
        "responses": _models(_RESPONSES),
        "events": _models([TaskEvent]),
        # Keyed by the name messages carry, which is what a worker of another release knows a task by.
        "tasks": {spec.task_name: _task(spec) for spec in builtin.SPECS},
    }


def _dumps(document: dict[str, Schema]) -> str:
    # Sorted and stable, so a snapshot changes only when the contract does.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(root: Path, version: str = __version__) -> list[Path]:
    """Write the current contract as `root/<version>/<group>.json`; the paths written."""
    folder = root / version
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for group, document in export().items():
        path = folder / f"{group}.json"
        path.write_text(_dumps(document), encoding="utf-8")
        written.append(path)
    return written


def read(folder: Path) -> Contract:
    """A snapshot written by `write`: every `<group>.json` in `folder`."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}


def snapshot_differences(root: Path, version: str = __version__) -> list[str]:
    """The groups in which `root/<version>/` differs from the current contract; empty when it matches."""
    folder = root / version
    if not folder.is_dir():
        return [f"no snapshot of {version} in {root}"]
    snapshot = read(folder)
    current = export()
    return [
        f"{group}.json differs from the current contract"
        for group in sorted(snapshot.keys() | current.keys())
        if snapshot.get(group) != current.get(group)
    ]


COMMAND = SnapshotCommand(
    module="taskgate_contracts.schemas",
    description=f"Export the JSON Schemas of taskgate-contracts {__version__}.",
    what="contract",
    layout="<version>/",
    dump=lambda: _dumps(export()),
    write=write,
    differences=snapshot_differences,
    location=lambda root: root / __version__,
)
main = COMMAND.main


if __name__ == "__main__":
    raise SystemExit(main())
