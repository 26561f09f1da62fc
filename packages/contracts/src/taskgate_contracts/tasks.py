"""Task signatures: what the api sends and the worker runs, agreed by name.

The api never imports the worker: it sends `spec.name` with `spec.args` serialised to JSON onto
`spec.queue`, and the worker registers a task under that same name.
"""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from taskgate_contracts.requests import Delay

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)

#: The reason a task that ran past its time limit fails with.
TIME_LIMIT_EXCEEDED = "time limit exceeded"


@dataclass(frozen=True)
class TaskSpec(Generic[ArgsT, ResultT]):
    """The signature of one task: its name, queue, argument and result models, and time limits."""

    name: str
    queue: str
    args: type[ArgsT]
    result: type[ResultT]
    #: Default soft time limit in seconds; deployments override it (TASK_TIME_LIMIT).
    soft_time_limit: float
    #: Seconds between the soft limit (the task is asked to stop) and the hard one (it is killed).
    hard_limit_grace: float
    #: The longest work a client may ask for by default (MAX_DELAY).
    max_delay: float

    def hard_time_limit(self, soft_time_limit: float) -> float:
        return soft_time_limit + self.hard_limit_grace


class ProcessArgs(BaseModel):
    """Arguments of the process task."""

    model_config = ConfigDict(extra="forbid")

    delay: Delay = 0


class ProcessResult(BaseModel):
    """What the process task returns when it completes."""

    model_config = ConfigDict(extra="ignore")

    result: str = "Запрос выполнен успешно"
    delay: float


PROCESS = TaskSpec(
    name="taskgate.process",
    queue="taskgate",
    args=ProcessArgs,
    result=ProcessResult,
    soft_time_limit=30.0,
    hard_limit_grace=5.0,
    max_delay=3600.0,
)

#: Every task signature, for tools that render broker topology from contracts.
ALL_TASKS: tuple[TaskSpec[Any, Any], ...] = (PROCESS,)
