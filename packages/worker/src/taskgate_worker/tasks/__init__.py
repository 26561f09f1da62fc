"""The tasks the worker runs, each in its own module under the name contracts gives it."""

from celery import Celery

from taskgate_worker.tasks import process


def register_tasks(app: Celery) -> None:
    process.register(app)
