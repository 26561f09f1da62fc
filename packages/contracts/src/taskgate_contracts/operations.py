"""What each task type's HTTP operations are called and where they are: derived from its spec alone,
so the api that serves them and the client that calls them cannot disagree.

Every task type has two operations, named the way Flower names its own (`async-apply` and `apply`):

- `POST /submit/<name>` (operationId `submit_<name>`): queue it and answer `202` at once, with where to
  follow it (`/tasks/<task id>`);
- `POST /run/<name>` (operationId `run_<name>`): queue it and wait up to TASK_TIMEOUT for its outcome —
  `200` with the result, `202` pending, or `500` failed, as the seed's `POST /process` does.

They live outside `/tasks/{task_id}`, so a type's name can never be mistaken for a task's id.
"""

import re
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskgate_contracts.tasks import TaskSpec

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def slug(spec: TaskSpec[Any, Any]) -> str:
    """The name as an identifier: `acme.weekly-report` is `acme_weekly_report`."""
    return _NOT_ALNUM.sub("_", spec.name)


def _name(task: TaskSpec[Any, Any] | str) -> str:
    return task if isinstance(task, str) else task.name


def submit_path(task: TaskSpec[Any, Any] | str) -> str:
    """Where a task type, given by its spec or its name, is submitted."""
    return f"/submit/{_name(task)}"


def run_path(task: TaskSpec[Any, Any] | str) -> str:
    """Where a task type, given by its spec or its name, is run."""
    return f"/run/{_name(task)}"


def submit_operation_id(spec: TaskSpec[Any, Any]) -> str:
    return f"submit_{slug(spec)}"


def run_operation_id(spec: TaskSpec[Any, Any]) -> str:
    return f"run_{slug(spec)}"


def _pascal(spec: TaskSpec[Any, Any]) -> str:
    return "".join(word.capitalize() for word in slug(spec).split("_"))


class _Completed(BaseModel):
    status: Literal["completed"] = "completed"
    time: float = Field(description="Seconds since the api received the request, queue time included.", ge=0)
    task_id: str = Field(description="The task's id; follow it at /tasks/{task_id}.")


@cache
def completed_model(spec: TaskSpec[Any, Any]) -> type[BaseModel]:
    """The `200` answer of the type's run operation: `{"status": "completed", "result": <its result
    model>, "time": …, "task_id": …}`, named after the type (`ThumbnailCompleted`)."""
    examples = spec.result.model_json_schema().get("examples", [])
    config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "completed", "result": examples[0], "time": 0.82, "task_id": "6f1c…"}]
        }
        if examples
        else None
    )
    name = f"{_pascal(spec)}Completed"
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"The {spec.name} task finished within TASK_TIMEOUT: what it returned.",
        "__annotations__": {"result": spec.result},
        "result": Field(description=f"What the {spec.name} task returned."),
        "model_config": config,
    }
    model: type[BaseModel] = type(name, (_Completed,), namespace)
    return model
