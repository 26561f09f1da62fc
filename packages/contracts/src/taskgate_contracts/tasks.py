"""Task types: what the api sends and the worker runs, agreed by name.

A task type is a `TaskSpec`: its name, the pydantic models of its arguments and its result, and how the
worker runs it (queue, time limit, retries). Specs are light — pydantic models and plain data — so the
api, ops and the client load them without the code that runs the task. They are found through the
`taskgate.tasks` entry points (`taskgate_contracts.registry`); the worker finds the code that runs each
one, its handler, through `taskgate.handlers` (`taskgate_contracts.handlers`).

The api never imports the worker: it sends `spec.task_name` with the arguments serialised to JSON onto
`spec.queue`, and the worker registers a task under that same name.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationInfo

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)
SettingsT = TypeVar("SettingsT", bound="TaskSettings")

#: Lower-case words of letters, digits, `-` and `_`, dot-separated: `thumbnail`, `acme.report`. The name
#: is a URL path segment, a command-line word, a metric label and part of the Celery task name.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*")
_NAME_MAX_LENGTH = 64
#: Celery task names and default queue names are the task type's name under this prefix.
_PREFIX = "taskgate."

#: The reason a task that ran past its time limit fails with.
TIME_LIMIT_EXCEEDED = "time limit exceeded"
#: Seconds from a task's soft time limit (the handler is asked to stop) to its hard one (the worker kills
#: it): the worker applies it to every type, and ops counts it in how long a delivery may stay unacked.
HARD_LIMIT_GRACE_SECONDS = 5.0


class TransientError(Exception):
    """Raised by a handler for a failure that may pass if the task is tried again (a busy service, a
    lost connection). Every retry policy counts it as transient."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often a task that fails transiently is tried, and how long the worker waits in between.

    A failure is transient when the handler raises an instance of one of `transient` (a `TransientError`
    always is). Before the n-th retry the worker waits a random time up to `backoff * 2**(n-1)` seconds,
    and at most `backoff_max` (exponential backoff with full jitter, as Celery's `retry_backoff` does);
    the task fails for good after `attempts` tries, or at once on any other exception.
    """

    #: Tries in all, the first included: 1 means no retry.
    attempts: int = 1
    #: Whole seconds: the factor of the exponential backoff.
    backoff: int = 1
    backoff_max: int = 60
    transient: tuple[type[Exception], ...] = ()

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"a retry policy needs at least 1 attempt, got {self.attempts}")
        if not 0 < self.backoff <= self.backoff_max:
            raise ValueError(f"backoff must be positive and at most backoff_max, got {self.backoff}")
        object.__setattr__(self, "transient", tuple(dict.fromkeys((TransientError, *self.transient))))

    @property
    def retries(self) -> int:
        return self.attempts - 1


class TaskSettings(BaseModel):
    """Base of a task type's own deployment settings, such as a bound on its arguments.

    Each field is an environment variable of the same name in upper case (`max_delay` is MAX_DELAY),
    read by the api and the worker like their own settings; a wrong value stops them at start. The
    args model's validators find the deployment's values with `settings_in`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    def state_in(self, args_schema: dict[str, Any]) -> None:
        """Write this deployment's values into the JSON schema of the args model where they bound an
        argument (a `maximum`, say), so the OpenAPI document promises what the validators hold clients
        to. Nothing by default."""


@dataclass(frozen=True)
class TaskSpec(Generic[ArgsT, ResultT]):
    """One task type: everything the api, the worker, ops and the client need to agree on."""

    name: str
    #: The model of the arguments a client sends (the body of its HTTP operations).
    args: type[ArgsT]
    #: The model of what the handler returns.
    result: type[ResultT]
    #: One line for the docs, the OpenAPI document and `taskgate types`.
    description: str
    #: The RabbitMQ queue its messages go to; by default `taskgate.<name>`, a queue of its own.
    queue: str = ""
    #: Seconds the handler may run before it is asked to stop (the hard limit is a little later). None
    #: takes the worker's TASK_TIME_LIMIT; TASK_TIME_LIMITS overrides either per task type.
    soft_time_limit: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: The task type's own settings, if it has any.
    settings: type["TaskSettings"] | None = None
    #: Sent by taskgate itself, never by a client: the api offers no HTTP operations of it (a webhook
    #: delivery, say). Its queue, worker and retries are every type's.
    internal: bool = False

    def __post_init__(self) -> None:
        problem = _name_problem(self.name)
        if problem:
            raise ValueError(f"task type name {self.name!r} {problem}")
        if not self.description.strip() or "\n" in self.description:
            raise ValueError(f"task type {self.name!r} needs a one-line description")
        if self.soft_time_limit is not None and not (0 < self.soft_time_limit < math.inf):
            raise ValueError(f"task type {self.name!r}: soft_time_limit must be a positive number of seconds")
        object.__setattr__(self, "queue", self.queue or self.task_name)

    @property
    def task_name(self) -> str:
        """The Celery task name: what a task message's `task` header says."""
        return _PREFIX + self.name

    def context(self, settings: "TaskSettings | None") -> dict[type["TaskSettings"], "TaskSettings"]:
        """The validation context its args model is validated with, given the deployment's settings."""
        return {} if settings is None else {type(settings): settings}


def _name_problem(name: str) -> str | None:
    if len(name) > _NAME_MAX_LENGTH:
        return f"is longer than {_NAME_MAX_LENGTH} characters"
    if not NAME_PATTERN.fullmatch(name):
        return "must be lower-case words of letters, digits, '-' and '_', separated by dots"
    return None


def type_name(task_name: str) -> str | None:
    """The task type a Celery task name stands for, or None when it is not a taskgate task."""
    name = task_name.removeprefix(_PREFIX)
    return name if name != task_name and NAME_PATTERN.fullmatch(name) else None


def settings_in(info: ValidationInfo, model: type[SettingsT]) -> SettingsT:
    """Inside an args validator: this deployment's `model`, or its defaults when validated without one
    (by a client, say)."""
    context = info.context
    found = context.get(model) if isinstance(context, Mapping) else None
    return found if isinstance(found, model) else _defaults(model)


@cache
def _defaults(model: type[SettingsT]) -> SettingsT:
    return model()


def environment(
    from_file: Mapping[str, str | None], environ: Mapping[str, str], secrets: Path | None = None
) -> dict[str, str]:
    """What task settings are read from: the files of the `secrets` folder (one a variable, named like it,
    as for the services' own settings), overlaid by a `.env` file's values, overlaid by the environment's;
    a variable that is empty in any of them is left out, so it neither hides another's value nor sets one."""
    files = {} if secrets is None else _secret_files(secrets)
    return {name: value for source in (files, from_file, environ) for name, value in source.items() if value}


def _secret_files(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text().strip() for path in folder.iterdir() if path.is_file()}


def load_settings(model: type[SettingsT], environ: Mapping[str, str]) -> SettingsT:
    """`model` from environment variables named like its fields, in any case; an empty one is unset.

    Raises pydantic's ValidationError, whose locations name the fields (so the variables)."""
    fields = model.model_fields
    values: dict[str, Any] = {}
    for variable, value in environ.items():
        name = variable.lower()
        if name in fields and value != "":
            values[name] = value
    return model.model_validate(values)
