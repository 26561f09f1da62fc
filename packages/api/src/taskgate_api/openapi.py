"""The api's OpenAPI document, one snapshot per release: what generated clients are built from.

A deployment's document depends on the task types installed beside the api and on settings that bounds
are read from (MAX_DELAY, TASK_TIMEOUT, MAX_BODY_BYTES; API_KEYS adds the security scheme and 401s). A
snapshot is the canonical build: the task types taskgate ships and nothing else, every setting at its
default, whatever the environment or `.env` say. A release writes `<out>/<version>.json` and commits it;
`nox -s compat` checks every later document against each committed one, so a route, status code, field
or header a generated client relies on is not removed, nor a type changed under it, without a major
version.

    python -m taskgate_api.openapi                      # print the canonical document
    python -m taskgate_api.openapi --out DIR            # write DIR/<version>.json
    python -m taskgate_api.openapi --check DIR          # is DIR/<version>.json the canonical document?
"""

import json
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from taskgate_api.app import create_app
from taskgate_api.config import ApiSettings
from taskgate_api.version import __version__
from taskgate_contracts import Registry, builtin
from taskgate_contracts.snapshots import SnapshotCommand

Document = dict[str, Any]


class _DefaultSettings(ApiSettings):
    """The api's settings at their defaults: neither the environment nor `.env` is read."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def canonical_document() -> Document:
    """The document of an api serving the built-in task types with every setting at its default."""
    registry = Registry.of(builtin.SPECS, origin="taskgate-contracts' built-in task types")
    document: Document = create_app(_DefaultSettings(), registry, task_settings={}).openapi()
    return document


def dumps(document: Document) -> str:
    # Sorted and stable, so a snapshot changes only when the document does.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def snapshot_path(root: Path, version: str = __version__) -> Path:
    return root / f"{version}.json"


def write(root: Path, version: str = __version__) -> Path:
    """Write the canonical document as `root/<version>.json`; the path written."""
    root.mkdir(parents=True, exist_ok=True)
    path = snapshot_path(root, version)
    path.write_text(dumps(canonical_document()), encoding="utf-8")
    return path


def read(path: Path) -> Document:
    document: Document = json.loads(path.read_text(encoding="utf-8"))
    return document


def snapshot_differences(root: Path, version: str = __version__) -> list[str]:
    """What differs between `root/<version>.json` and the canonical document; empty when they match."""
    path = snapshot_path(root, version)
    if not path.is_file():
        return [f"no snapshot of {version} in {root}"]
    snapshot, current = read(path), canonical_document()
    return [
        f"{path.name}: {part} differs from the current document"
        for part in sorted(snapshot.keys() | current.keys())
        if snapshot.get(part) != current.get(part)
    ]


COMMAND = SnapshotCommand(
    module="taskgate_api.openapi",
    description=f"The canonical OpenAPI document of taskgate-api {__version__}: the built-in task types, "
    "every setting at its default.",
    what="document",
    layout="<version>.json",
    dump=lambda: dumps(canonical_document()),
    write=lambda root: [write(root)],
    differences=snapshot_differences,
    location=snapshot_path,
)
main = COMMAND.main


if __name__ == "__main__":
    raise SystemExit(main())
