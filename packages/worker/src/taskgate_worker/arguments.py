"""A task message's arguments checked against its task type's args model, worded once for every checker.

The consumer checks them before a message is taken on (`poison`) and the task again before it runs
(`base`): both say the same one line, so a client reads the same reason whichever caught it.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from taskgate_contracts import TaskSettings, TaskSpec


def validated_arguments(
    spec: TaskSpec[Any, Any],
    context: Mapping[type[TaskSettings], TaskSettings],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
) -> BaseModel:
    """The args model of `kwargs`; ValueError (builtin: whoever reads the failure needs no worker code to
    rebuild it) naming each wrong argument."""
    # The api sends keyword arguments only: positional ones would bypass the argument model.
    if args:
        raise ValueError(f"invalid arguments for {spec.task_name}: positional arguments are not accepted")
    try:
        model: BaseModel = spec.args.model_validate(kwargs, context=context)
    except ValidationError as exc:
        raise ValueError(describe_invalid_arguments(spec.task_name, exc)) from None
    return model


def describe_invalid_arguments(name: str, error: ValidationError) -> str:
    """One line naming each wrong argument, the same whether the consumer or the task finds it."""
    problems = "; ".join(
        f"{'.'.join(map(str, item['loc'])) or 'arguments'}: {item['msg']}" for item in error.errors()
    )
    return f"invalid arguments for {name}: {problems}"
