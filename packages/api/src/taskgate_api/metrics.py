"""Prometheus metrics the api exposes on /metrics, beyond the per-route request counts."""

from prometheus_client import Counter, Histogram

TASKS_SUBMITTED = Counter("taskgate_tasks_submitted", "Tasks sent to RabbitMQ.", ["task"])
OUTCOMES = Counter("taskgate_process_outcomes", "Answers of POST /process by outcome.", ["outcome"])
WAIT_SECONDS = Histogram(
    "taskgate_result_wait_seconds",
    "Time a request waited for its task's outcome after sending it.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
