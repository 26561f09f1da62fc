"""The handler of `webhook`: one attempt to deliver a finished task's completion webhook, then either the
end (delivered, or failed for good) or the next attempt scheduled.

Each attempt posts the task's view as `GET /tasks/{id}` gives it (without its own webhook section),
signed per Standard Webhooks with the secret WEBHOOK_SECRETS holds for the name of the API key the task
was submitted with (the `default` entry for a task submitted without a named key). `webhook-id` is the
task's id, the same on every attempt, so a receiver can tell a repeated delivery from a new one.

A failed attempt (no answer, or anything but 2xx) is tried again after an exponential backoff — the
spec's `backoff` doubling up to `backoff_max`, the wait half fixed and half random so that many webhooks
to one receiver spread out — until WEBHOOK_DEADLINE has passed since the first attempt. The handler
schedules the retry itself (Celery's retry with that countdown), so the task's view says when it is due.
A destination the policy refuses, or a key without a secret, fails the delivery at once: no retry
could succeed.
"""

import logging
import random
from datetime import UTC, datetime, timedelta

from celery import current_task

from taskgate_contracts import TaskContext, WebhookAttempt, WebhookState
from taskgate_contracts.builtin.webhook import (
    DEFAULT_SECRET,
    WEBHOOK,
    WebhookArgs,
    WebhookResult,
    WebhookSettings,
)
from taskgate_worker import delivery
from taskgate_worker.journal import note_webhook, task_state

log = logging.getLogger(__name__)


def deliver(args: WebhookArgs, context: TaskContext) -> WebhookResult:
    settings = context.settings
    if not isinstance(settings, WebhookSettings):
        settings = WebhookSettings()  # run without a deployment's settings: the defaults
    app = current_task.app
    view = task_state(app, args.task_id)
    if view is None or view.webhook is None:
        # Expired meanwhile, or never had a callback URL: nothing to post, nothing to note on.
        log.warning("task %s has no webhook to deliver", args.task_id)
        return WebhookResult(state=WebhookState.FAILED, attempts=0)
    webhook = view.webhook
    if webhook.state in (WebhookState.DELIVERED, WebhookState.FAILED):
        return _result(webhook.state, webhook.attempts)  # a message delivered twice: done already
    now = datetime.now(UTC)
    # Without the delivery's own notes and the record's expiry, which each attempt renews: every attempt
    # posts the same body.
    body = view.model_dump_json(exclude={"webhook", "expires_at"})
    key = view.submitted_by or DEFAULT_SECRET
    secret = settings.webhook_secrets.get(key)
    try:
        if secret is None:
            raise delivery.RefusedError(f"WEBHOOK_SECRETS holds no secret for the key {key!r}")
        headers = delivery.signed_headers(secret.get_secret_value(), args.task_id, now, body)
        outcome = delivery.post(settings.policy, webhook.url, body, headers, settings.webhook_timeout)
    except delivery.RefusedError as exc:
        attempts = [*webhook.attempts, WebhookAttempt(at=now, error=str(exc))]
        note_webhook(app, args.task_id, WebhookState.FAILED, attempts, None)
        return _result(WebhookState.FAILED, attempts)
    attempts = [*webhook.attempts, WebhookAttempt(at=now, status=outcome.status, error=outcome.error)]
    if outcome.delivered:
        note_webhook(app, args.task_id, WebhookState.DELIVERED, attempts, None)
        return _result(WebhookState.DELIVERED, attempts)
    wait = backoff(len(attempts))
    next_at = now + timedelta(seconds=wait)
    if next_at > attempts[0].at + timedelta(seconds=settings.webhook_deadline) or len(attempts) >= (
        WEBHOOK.retry.attempts
    ):
        note_webhook(app, args.task_id, WebhookState.FAILED, attempts, None)
        return _result(WebhookState.FAILED, attempts)
    note_webhook(app, args.task_id, WebhookState.DELIVERING, attempts, next_at)
    raise current_task.retry(countdown=wait, max_retries=WEBHOOK.retry.retries)


def backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failed attempts: the spec's exponential step, half of it fixed
    and half random."""
    step = float(min(WEBHOOK.retry.backoff * 2 ** (attempts - 1), WEBHOOK.retry.backoff_max))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not a secret


def _result(state: WebhookState, attempts: list[WebhookAttempt]) -> WebhookResult:
    status = attempts[-1].status if attempts else None
    return WebhookResult(state=state, status=status, attempts=len(attempts))
