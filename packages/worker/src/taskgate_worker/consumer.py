"""The worker's consumer: Celery's, with poisoned messages dead-lettered (`poison`) and native delayed
delivery set up through the connected node only (`delayed_delivery`)."""

from typing import ClassVar

from taskgate_worker.delayed_delivery import CELERY_STEP, DelayedDeliveryOnConnectedNode
from taskgate_worker.poison import DeadLetteringConsumer

_STEP = f"{DelayedDeliveryOnConnectedNode.__module__}:{DelayedDeliveryOnConnectedNode.__name__}"


class WorkerConsumer(DeadLetteringConsumer):
    class Blueprint(DeadLetteringConsumer.Blueprint):  # type: ignore[misc,name-defined]  # Celery is untyped
        default_steps: ClassVar[list[str]] = [
            _STEP if step == CELERY_STEP else step for step in DeadLetteringConsumer.Blueprint.default_steps
        ]
