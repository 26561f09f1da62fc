"""The task types this installation knows, found through entry points — as pytest finds its plugins.

A package declares its task types under the entry-point group `taskgate.tasks`: each entry point names a
`TaskSpec` or an iterable of them. The api, the worker, ops and the client all call `discover()`, so they
agree on the same types without importing each other. Two specs with the same name stop discovery with
one line naming both.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from taskgate_contracts.operations import slug
from taskgate_contracts.tasks import TaskSpec

#: Entry points that name task specs (light: pydantic models only).
TASKS_GROUP = "taskgate.tasks"
#: Entry points that name the handler running each task type in the worker; the name is the type's.
HANDLERS_GROUP = "taskgate.handlers"

AnySpec = TaskSpec[Any, Any]


class RegistryError(Exception):
    """The installed task types are inconsistent; the message is one line naming what clashes."""


class UnknownTaskTypeError(LookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown task type {name!r}; known: {', '.join(self.known) or 'none'}")


def describe(entry_point: EntryPoint) -> str:
    """An entry point as a reader finds it: `name = module:attribute (distribution version)`."""
    dist = entry_point.dist
    where = f" ({dist.name} {dist.version})" if dist is not None else ""
    return f"{entry_point.group} entry point {entry_point.name} = {entry_point.value}{where}"


@dataclass(frozen=True)
class Registry:
    """Task types by name, each with where it was declared."""

    specs: Mapping[str, AnySpec]
    origins: Mapping[str, str]

    @classmethod
    def of(cls, specs: Iterable[AnySpec], origin: str = "the registry's caller") -> "Registry":
        """A registry of the given specs; a name given twice is a RegistryError."""
        return cls._collect((spec, origin) for spec in specs)

    @classmethod
    def _collect(cls, declared: Iterable[tuple[AnySpec, str]]) -> "Registry":
        specs: dict[str, AnySpec] = {}
        origins: dict[str, str] = {}
        by_slug: dict[str, str] = {}
        for spec, origin in declared:
            if spec.name in specs:
                raise RegistryError(
                    f"task type {spec.name!r} is declared twice: by {origins[spec.name]} and by {origin}"
                )
            twin = by_slug.setdefault(slug(spec), spec.name)
            if twin != spec.name:
                # Their operation ids and answer models would be one and the same.
                raise RegistryError(
                    f"task types {twin!r} ({origins[twin]}) and {spec.name!r} ({origin}) differ only in "
                    f"punctuation; rename one of them"
                )
            specs[spec.name], origins[spec.name] = spec, origin
        return cls(dict(sorted(specs.items())), origins)

    def __getitem__(self, name: str) -> AnySpec:
        try:
            return self.specs[name]
        except KeyError:
            raise UnknownTaskTypeError(name, self.specs) from None

    def __iter__(self) -> Iterator[AnySpec]:
        return iter(self.specs.values())

    def __len__(self) -> int:
        return len(self.specs)

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def by_task_name(self, task_name: str) -> AnySpec | None:
        """The spec whose Celery task name this is."""
        return next((spec for spec in self if spec.task_name == task_name), None)

    def queues(self) -> dict[str, tuple[AnySpec, ...]]:
        """Each queue with the task types whose messages go to it, queues and types sorted."""
        by_queue: dict[str, list[AnySpec]] = {}
        for spec in self:
            by_queue.setdefault(spec.queue, []).append(spec)
        return {queue: tuple(by_queue[queue]) for queue in sorted(by_queue)}

    def subset(self, names: Iterable[str]) -> "Registry":
        """Only the named task types; an unknown name raises UnknownTaskTypeError."""
        chosen = {name: self[name] for name in names}
        return Registry(dict(sorted(chosen.items())), {name: self.origins[name] for name in chosen})


def _specs_of(entry_point: EntryPoint) -> list[AnySpec]:
    try:
        loaded = entry_point.load()
    except Exception as exc:  # any failure to import a plug-in is that plug-in's, named as such
        raise RegistryError(f"cannot load {describe(entry_point)}: {type(exc).__name__}: {exc}") from exc
    items = [loaded] if isinstance(loaded, TaskSpec) else loaded
    if isinstance(items, Iterable) and not isinstance(items, str | bytes | Mapping):
        specs = list(items)
        if all(isinstance(spec, TaskSpec) for spec in specs):
            return specs
    raise RegistryError(f"{describe(entry_point)} names {loaded!r}, not a TaskSpec or an iterable of them")


def discover() -> Registry:
    """Every task type installed in this environment."""
    found = entry_points(group=TASKS_GROUP)
    return Registry._collect(
        (spec, describe(entry_point))
        for entry_point in sorted(found, key=lambda ep: (ep.dist.name if ep.dist else "", ep.name))
        for spec in _specs_of(entry_point)
    )
