"""How a running task reports how far it got."""

from pydantic import BaseModel, ConfigDict, Field

#: The custom Celery state a task is in while it reports progress.
PROGRESS_STATE = "PROGRESS"


class Progress(BaseModel):
    """Progress of a task: `percent` done, `current` of `total` steps, and a human-readable line."""

    model_config = ConfigDict(extra="ignore")

    percent: float = Field(0, ge=0, le=100)
    current: int = Field(0, ge=0)
    total: int = Field(0, ge=0)
    message: str = ""
