"""The handlers installed in this environment, found through the `taskgate.handlers` entry points.

An entry point is named like its task type and names the handler function. Only the handlers of the types
a worker hosts are imported, so a worker can host the types whose dependencies are installed and leave
the others (and their extras) out. Whatever is wrong stops the worker at start with one line naming the
entry point.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from taskgate_contracts import Handler
from taskgate_contracts.registry import HANDLERS_GROUP, describe
from taskgate_worker.config import StartupError


@dataclass(frozen=True)
class InstalledHandler:
    """A task type's handler, not yet imported."""

    name: str
    #: Where it was declared, as the operator finds it.
    origin: str
    load: Callable[[], Handler]


def installed_handlers() -> dict[str, InstalledHandler]:
    """The handlers the installed entry points declare, by task type name."""
    handlers: dict[str, InstalledHandler] = {}
    for entry_point in entry_points(group=HANDLERS_GROUP):
        origin = describe(entry_point)
        if entry_point.name in handlers:
            raise StartupError(
                f"the handler of task type {entry_point.name!r} is declared twice: "
                f"by {handlers[entry_point.name].origin} and by {origin}"
            )
        handlers[entry_point.name] = InstalledHandler(entry_point.name, origin, _loader(entry_point))
    return handlers


def given_handlers(handlers: Mapping[str, Handler]) -> dict[str, InstalledHandler]:
    """Handlers passed in rather than installed: a test's, or an embedding program's."""
    return {
        name: InstalledHandler(name, f"the handler given for {name!r}", _given(handler))
        for name, handler in handlers.items()
    }


def _given(handler: Handler) -> Callable[[], Handler]:
    return lambda: handler


def _loader(entry_point: EntryPoint) -> Callable[[], Handler]:
    def load() -> Handler:
        try:
            handler = entry_point.load()
        except ModuleNotFoundError as exc:
            raise StartupError(f"cannot load {describe(entry_point)}: {_missing(entry_point, exc)}") from None
        except Exception as exc:  # whatever a plug-in raises on import is that plug-in's, named as such
            raise StartupError(f"cannot load {describe(entry_point)}: {type(exc).__name__}: {exc}") from None
        if not callable(handler):
            raise StartupError(f"{describe(entry_point)} names {handler!r}, not a function")
        return handler  # type: ignore[no-any-return]  # a callable of the entry point's choosing

    return load


def _missing(entry_point: EntryPoint, error: ModuleNotFoundError) -> str:
    """What to do about a module the handler imports but nobody installed."""
    module = error.name or str(error)
    remedy = f"install the package that provides {module!r}"
    dist = entry_point.dist
    # By convention a distribution puts what a type's handler needs in an extra named after the type.
    if dist is not None and entry_point.name in (dist.metadata.get_all("Provides-Extra") or ()):
        remedy = f"install {dist.name}[{entry_point.name}]"
    return f"module {module!r} is not installed: {remedy}, or host other task types with --tasks"
