"""The worker's part in completion webhooks: once a task it ran has ended, it sends the delivery of the
task's webhook — if the task has a callback URL and nobody claimed the delivery first.

The claim is a field of the task's record set only if it is not set yet (`CLAIM_WEBHOOK`), so however many
parties record the task's end (this worker, the api that cancelled the task, a worker that stops it
after the api's cancel), exactly one sends the delivery. The delivery goes onto the webhook type's queue,
declared as every task queue is, whether or not this worker hosts that type.
"""

import logging
from datetime import UTC, datetime

from celery import Celery
from kombu.exceptions import OperationalError

from taskgate_contracts import WebhookAttempt, WebhookState
from taskgate_contracts.builtin.webhook import WEBHOOK, WebhookArgs, delivery_id
from taskgate_contracts.messages import message_headers
from taskgate_worker.journal import claim_webhook, note_webhook

log = logging.getLogger(__name__)


def task_ended(app: Celery, task_id: str) -> None:
    """Send the delivery of the task's webhook, once per task: a task with no callback URL, or whose
    delivery another has claimed, sends nothing."""
    if not claim_webhook(app, task_id):
        return
    args = WebhookArgs(task_id=task_id)
    try:
        app.send_task(
            WEBHOOK.task_name,
            kwargs=args.model_dump(mode="json"),
            task_id=delivery_id(task_id),
            headers=message_headers(),
            add_to_parent=False,
        )
    except (OperationalError, OSError) as exc:
        # Celery has retried the publish already; the claim is taken, so the task says what happened.
        log.error("could not queue the webhook of task %s: %s", task_id, exc)
        failure = WebhookAttempt(at=datetime.now(UTC), error=f"the delivery could not be queued: {exc}")
        note_webhook(app, task_id, WebhookState.FAILED, [failure], None)
