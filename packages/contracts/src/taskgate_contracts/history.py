"""What the api answers about many tasks at once: a page of the task history, and the dead letters."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskgate_contracts.responses import SubmittedResponse, TaskView

#: Why RabbitMQ dead-lettered a message, as its `x-death` header says: the worker rejected it (it can
#: never run), it was delivered more often than the queue's delivery limit, its time to live ran out, or
#: the queue was full.
DeadLetterReason = Literal["rejected", "delivery_limit", "expired", "maxlen"]


class TaskPage(BaseModel):
    """Tasks, newest first. `next_cursor`, when not null, fetches the next (older) page; with a `status`
    filter a page may hold fewer than `limit` tasks, even none, while more follow."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tasks": [TaskView.model_json_schema()["examples"][0]],
                    "next_cursor": "1796000000000123.6f1c2b7e-0d4a-4f7c-9a51-3c2e8f1d0b9a",
                }
            ]
        }
    )

    tasks: list[TaskView]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null at the end.")


class DeadLetter(BaseModel):
    """A task message in a dead-letter queue: which task, why it is there, since when, with what."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "task_id": "6f1c…",
                    "task": "process",
                    "queue": "taskgate",
                    "dead_letter_queue": "taskgate.dead-letter",
                    "reason": "rejected",
                    "detail": "ValueError: delay: Input should be less than or equal to 10 (MAX_DELAY)",
                    "dead_lettered_at": "2026-11-24T10:00:01Z",
                    "count": 1,
                    "args": {"delay": 40},
                }
            ]
        }
    )

    task_id: str | None = Field(description="The task the message runs; null for a message that is no task.")
    task: str | None = Field(description="Its task type, when the message names one taskgate knows.")
    queue: str = Field(description="The queue it was dead-lettered from, where a replay sends it.")
    dead_letter_queue: str
    reason: DeadLetterReason | None = Field(description="RabbitMQ's reason (`x-death`); null when unknown.")
    detail: str | None = Field(None, description="What the worker said of it, when it rejected it.")
    dead_lettered_at: datetime | None = None
    count: int = Field(0, ge=0, description="How often it was dead-lettered for that reason from that queue.")
    args: dict[str, Any] | None = Field(None, description="The task's arguments, when its body is readable.")


class DeadLetterList(BaseModel):
    """What the dead-letter queues hold, oldest first, read without taking it out of them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"dead_letters": [DeadLetter.model_json_schema()["examples"][0]], "truncated": False}
            ]
        }
    )

    dead_letters: list[DeadLetter]
    truncated: bool = Field(description="True when more messages wait than `limit` listed.")


class ReplayedResponse(SubmittedResponse):
    """The dead letter was sent back to its queue as a new attempt of the same task; follow it by its
    links."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**SubmittedResponse.model_json_schema()["examples"][0], "queue": "taskgate"}]
        }
    )

    queue: str = Field(description="The queue it was sent back to.")
