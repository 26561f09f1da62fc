"""`process`: the seed's job — sleep `delay` seconds, reporting progress, then answer the seed's message.

Its Celery name and queue (`taskgate.process` on `taskgate`) are the ones every release has used, so
workers and apis of earlier releases keep talking to this one.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from taskgate_contracts.responses import COMPLETED_MESSAGE
from taskgate_contracts.tasks import TaskSettings, TaskSpec, settings_in

#: Seconds of simulated work. Strict: a string, a boolean or null is refused rather than coerced;
#: NaN and infinities are refused; integers are accepted as in the seed, fractions too.
Delay = Annotated[
    float,
    Field(
        ge=0,
        allow_inf_nan=False,
        strict=True,
        description="Seconds the job works for: at least 0, at most the deployment's MAX_DELAY.",
        examples=[2],
    ),
]


class ProcessSettings(TaskSettings):
    max_delay: float = Field(
        3600.0, gt=0, allow_inf_nan=False, description="The largest delay a client may ask for (MAX_DELAY)."
    )

    def state_in(self, args_schema: dict[str, Any]) -> None:
        args_schema["properties"]["delay"]["maximum"] = self.max_delay


class ProcessArgs(BaseModel):
    """`{"delay": N}`; `{}` means a delay of 0, as in the seed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"delay": 2}]})

    delay: Delay = 0

    @field_validator("delay")
    @classmethod
    def _within_max_delay(cls, delay: float, info: ValidationInfo) -> float:
        limit = settings_in(info, ProcessSettings).max_delay
        if delay > limit:
            raise PydanticCustomError(
                "less_than_equal",
                "Input should be less than or equal to {limit} (MAX_DELAY)",
                {"limit": f"{limit:g}"},
            )
        return delay


class ProcessResult(BaseModel):
    """What the process task returns when it completes."""

    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"result": COMPLETED_MESSAGE, "delay": 2}]}
    )

    result: str = COMPLETED_MESSAGE
    delay: float


PROCESS = TaskSpec(
    name="process",
    args=ProcessArgs,
    result=ProcessResult,
    description="Work for `delay` seconds, reporting progress every half second (the seed's job).",
    queue="taskgate",
    settings=ProcessSettings,
)
