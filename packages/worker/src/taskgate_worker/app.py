"""The app `celery -A taskgate_worker.app` finds: it hosts what the environment says (WORKER_TASKS,
WORKER_QUEUES; by default every installed task type). `taskgate-worker` builds its own, with its command
line's choice, through the same `factory.configured`."""

from taskgate_worker.factory import configured

app = configured()[0]
