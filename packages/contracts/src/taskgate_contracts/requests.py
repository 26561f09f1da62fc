"""What HTTP clients send."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: The request header that makes a POST idempotent: the same key attaches to the same task.
IDEMPOTENCY_HEADER = "Idempotency-Key"

#: Seconds of simulated work. Strict: a string, a boolean or null is refused rather than coerced;
#: NaN and infinities are refused; integers are accepted as in the seed, fractions too.
Delay = Annotated[
    float,
    Field(
        ge=0,
        allow_inf_nan=False,
        strict=True,
        description="Seconds the job works for (non-negative; at most the service's MAX_DELAY).",
        examples=[2],
    ),
]


class ProcessRequest(BaseModel):
    """Body of `POST /process` and `POST /tasks`: `{"delay": N}`; `{}` means a delay of 0, as in the seed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"delay": 2}]})

    delay: Delay = 0
