"""The task types this api serves: each spec from the registry with this deployment's settings of it.

A type's settings (MAX_DELAY for `process`, say) are read once at start, from the environment and `.env`
like the api's own; its args model's validators find them in the validation context.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from taskgate_contracts import Registry, TaskSettings, TaskSpec
from taskgate_contracts.builtin.webhook import WEBHOOK, WebhookSettings
from taskgate_contracts.tasks import load_settings

_BYTE_ORDER_MARK = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class TaskType:
    spec: TaskSpec[Any, Any]
    settings: TaskSettings | None
    #: What the args model's validators find the settings in; made once, not per request.
    context: dict[type[TaskSettings], TaskSettings] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", self.spec.context(self.settings))

    @property
    def name(self) -> str:
        return self.spec.name

    def arguments(self, body: bytes) -> BaseModel:
        """The arguments in a JSON request body; raises pydantic's ValidationError. A UTF-8 byte order
        mark is skipped, as RFC 8259 lets a parser do."""
        body = body.removeprefix(_BYTE_ORDER_MARK)
        arguments: BaseModel = self.spec.args.model_validate_json(body, context=self.context)
        return arguments


class TaskTypes(Mapping[str, TaskType]):
    def __init__(self, registry: Registry, types: Mapping[str, TaskType]) -> None:
        self.registry = registry
        self._types = dict(types)

    @classmethod
    def load(cls, registry: Registry, environ: Mapping[str, str]) -> "TaskTypes":
        """Every type of `registry` with its settings from `environ`; raises pydantic's ValidationError
        naming the wrong setting."""
        types = {
            spec.name: TaskType(
                spec, None if spec.settings is None else load_settings(spec.settings, environ)
            )
            for spec in registry
        }
        return cls(registry, types)

    def __getitem__(self, name: str) -> TaskType:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def offered(self) -> dict[str, TaskType]:
        """The types clients submit over HTTP: all but the internal ones (a webhook's delivery)."""
        return {name: task_type for name, task_type in self._types.items() if not task_type.spec.internal}

    @property
    def webhook_settings(self) -> WebhookSettings | None:
        """The deployment's settings of completion webhooks; None without the webhook type."""
        task_type = self._types.get(WEBHOOK.name)
        settings = None if task_type is None else task_type.settings
        return settings if isinstance(settings, WebhookSettings) else None

    def queues(self) -> dict[str, list[str]]:
        """Each queue with the names of the task types whose messages go to it."""
        return {queue: [spec.name for spec in specs] for queue, specs in self.registry.queues().items()}
