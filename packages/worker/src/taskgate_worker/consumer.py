"""The worker's consumer: Celery's, with poisoned messages dead-lettered (`poison`), native delayed
delivery set up through the connected node only (`delayed_delivery`), and heartbeat events that give
up on a lost broker at once instead of holding the event loop (`event_heartbeat`)."""

from typing import ClassVar

from taskgate_worker import delayed_delivery, event_heartbeat
from taskgate_worker.poison import DeadLetteringConsumer


def _path(step: type) -> str:
    return f"{step.__module__}:{step.__name__}"


#: Celery's steps, by the names its blueprint gives them, and what stands in for each.
REPLACED_STEPS = {
    delayed_delivery.CELERY_STEP: _path(delayed_delivery.DelayedDeliveryOnConnectedNode),
    event_heartbeat.CELERY_STEP: _path(event_heartbeat.UnretriedHeart),
}


class WorkerConsumer(DeadLetteringConsumer):
    class Blueprint(DeadLetteringConsumer.Blueprint):  # type: ignore[misc,name-defined]  # Celery is untyped
        default_steps: ClassVar[list[str]] = [
            REPLACED_STEPS.get(step, step) for step in DeadLetteringConsumer.Blueprint.default_steps
        ]
