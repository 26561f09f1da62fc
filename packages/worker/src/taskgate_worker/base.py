"""The base task: the protocol every task type shares, around a handler that holds only the job.

A task of any type validates its keyword arguments against the type's args model (with the deployment's
settings of the type as validation context), notes its start in the journal, hands the handler the
arguments and a `RunningTask`, and returns the handler's result model as JSON.

A cancelled task (the api marks it in Redis) is skipped when it comes up, or stops when its handler next
reports progress or asks. A running task then stores itself as revoked — again, after the api did: a
progress report may have overwritten the api's state in the moment between the check and the report.
Either way the worker sends the `task-revoked` event, so Flower lists the task as REVOKED, as it would one
revoked through Celery; Celery's `Ignore` then ends it without storing or sending anything else.

Once a task has ended — completed, failed (a hard time limit included) or stopped by a cancel — the
worker sends the delivery of its completion webhook, if it has one and nobody claimed it first
(`completion`).

Retries are Celery's autoretry, set from the type's retry policy: a transient exception raised by the
handler sends the task back to its queue after an exponential backoff with full jitter, until its
attempts are used up; any other exception fails it at once.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from celery import Task, states
from celery.exceptions import Ignore

from taskgate_contracts import Handler, TaskCancelled, TaskSettings, TaskSpec
from taskgate_contracts.storage import CANCELLED_REASON
from taskgate_contracts.tasks import HARD_LIMIT_GRACE_SECONDS
from taskgate_worker import completion
from taskgate_worker.arguments import validated_arguments
from taskgate_worker.context import RunningTask
from taskgate_worker.contract_version import version_checking_strategy
from taskgate_worker.journal import note_start


class HandlerTask(Task):  # type: ignore[misc]  # Celery is untyped
    """A task type's Celery task; `task_class` makes one subclass per hosted type."""

    spec: ClassVar[TaskSpec[Any, Any]]
    handler: ClassVar[Handler]
    #: The deployment's settings of the type, and the validation context they make.
    task_settings: ClassVar[TaskSettings | None]
    validation_context: ClassVar[Mapping[type[TaskSettings], TaskSettings]]
    # Every message is checked for the contract version it was written with before it is taken on.
    Strategy = staticmethod(version_checking_strategy)

    def run(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        arguments = validated_arguments(self.spec, self.validation_context, args, kwargs)
        if note_start(self):
            # Nothing was written since the api stored it cancelled: that state stands.
            self._announce_revoked()
            completion.task_ended(self.app, self.request.id)
            raise Ignore()
        try:
            result = type(self).handler(arguments, RunningTask(self, self.task_settings))
        except TaskCancelled:
            self.backend.mark_as_revoked(self.request.id, CANCELLED_REASON, request=self.request)
            self._announce_revoked()
            completion.task_ended(self.app, self.request.id)
            raise Ignore() from None
        expected = self.spec.result
        if not isinstance(result, expected):
            raise TypeError(
                f"the handler of {self.spec.task_name} returned {type(result).__name__}, "
                f"not {expected.__name__}"
            )
        dumped: dict[str, Any] = result.model_dump(mode="json")
        return dumped

    def after_return(
        self, status: str, retval: Any, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        """Celery calls it once the outcome is stored: SUCCESS or FAILURE (a retry and a cancel are not
        outcomes it reports here), in the worker's main process after a hard time limit."""
        if status in states.READY_STATES:
            completion.task_ended(self.app, task_id)

    def _announce_revoked(self) -> None:
        """Tell the event followers (Flower) the task was revoked; Celery sends nothing on `Ignore`."""
        if self.app.conf.worker_send_task_events and not self.request.is_eager:
            self.send_event("task-revoked", terminated=False, signum=None, expired=False)

    def arguments_problem(self, args: list[Any], kwargs: dict[str, Any]) -> str | None:
        """Why the arguments of a message would fail this task, or None when they fit."""
        try:
            validated_arguments(self.spec, self.validation_context, args, kwargs)
        except ValueError as exc:
            return str(exc)
        return None


def task_class(
    spec: TaskSpec[Any, Any], handler: Handler, settings: TaskSettings | None, soft_time_limit: float
) -> type[HandlerTask]:
    """The task of one hosted type, with its time limits and retry policy."""
    retry = spec.retry
    attributes: dict[str, Any] = {
        "name": spec.task_name,
        "spec": spec,
        "handler": staticmethod(handler),
        "task_settings": settings,
        "validation_context": spec.context(settings),
        "soft_time_limit": soft_time_limit,
        "time_limit": soft_time_limit + HARD_LIMIT_GRACE_SECONDS,
        "autoretry_for": retry.transient,
        "max_retries": retry.retries,
        "retry_backoff": retry.backoff,
        "retry_backoff_max": retry.backoff_max,
        "retry_jitter": True,
        "__module__": __name__,
    }
    return type(f"HandlerTask[{spec.name}]", (HandlerTask,), attributes)
