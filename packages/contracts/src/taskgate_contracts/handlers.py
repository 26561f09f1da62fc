"""What a handler — the code that runs one task type in the worker — receives and returns.

A handler is a function `(args, context) -> result`: `args` is an instance of the spec's args model,
already validated; it returns an instance of the spec's result model. Progress and cancellation come from
`context`; the worker's base task does the rest (validation, the cancel mark, storing the result,
retries). It is registered under the entry-point group `taskgate.handlers`, named like its task type:

    [project.entry-points."taskgate.handlers"]
    thumbnail = "taskgate_worker.tasks.thumbnail:make_thumbnail"

Handlers import this module only for types, so a plug-in's handler needs no worker import either.
"""

from collections.abc import Callable
from typing import Any, Protocol, TypeAlias

from taskgate_contracts.tasks import TaskSettings


class TaskCancelled(BaseException):
    """Raised inside a handler when its task was cancelled. It derives from BaseException so that a
    handler's `except Exception` does not swallow it; the worker catches it and stores the task cancelled."""


class TaskContext(Protocol):
    """What the worker hands a handler beside its arguments."""

    @property
    def task_id(self) -> str: ...

    @property
    def attempt(self) -> int:
        """1 for the first try, 2 for the first retry, and so on."""
        ...

    @property
    def settings(self) -> TaskSettings | None:
        """The deployment's settings of this task type, if the type has any."""
        ...

    def report(self, percent: float, message: str = "", *, current: int = 0, total: int = 0) -> None:
        """Publish progress (0–100 %). Raises `TaskCancelled` if the task was cancelled meanwhile."""
        ...

    def raise_if_cancelled(self) -> None:
        """Raise `TaskCancelled` if the task was cancelled; for long steps that report no progress."""
        ...


#: A handler: the validated arguments and the context in, an instance of the result model out.
Handler: TypeAlias = Callable[[Any, TaskContext], Any]
