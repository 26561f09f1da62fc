"""The worker's log lines: one handler on the root logger writing JSON objects or text (LOG_FORMAT), for the
worker's own lines and Celery's alike, each naming the service, so lines from every process can be merged.

Connected to Celery's `setup_logging` signal, so Celery leaves the root logger to it (and, in JSON, the
worker's banner out of stdout: a log collector reads one object a line). Celery's own info lines for a
task's reception, success and retry are silenced: `transitions` writes one line for each, with the task's
id, type and outcome as fields. Its warnings and errors (a failure's traceback) still come through.
"""

import logging
import sys
from typing import Any

import structlog
from celery import signals

from taskgate_contracts.observability import LogFormat

SERVICE = "taskgate-worker"
#: Celery's loggers whose info lines `transitions` replaces.
_REPLACED = ("celery.app.trace", "celery.worker.strategy")


def install(log_format: LogFormat) -> None:
    """Take over the worker's logging when it starts, in `log_format`."""

    def setup_logging(loglevel: int | str | None = None, **_: Any) -> None:
        configure(log_format, loglevel or logging.INFO)

    def quiet_banner(instance: Any = None, **_: Any) -> None:
        if log_format == "json" and instance is not None:
            instance.quiet = True

    signals.setup_logging.connect(setup_logging, weak=False, dispatch_uid="taskgate-logging")
    signals.celeryd_after_setup.connect(quiet_banner, weak=False, dispatch_uid="taskgate-banner")


def configure(log_format: LogFormat, level: int | str) -> None:
    """Send every log record to stderr in `log_format`, from `level` up."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                _service,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # A traceback is one JSON string, not lines of its own that a collector would take apart.
                *([structlog.processors.format_exc_info] if log_format == "json" else []),
                structlog.processors.EventRenamer("message"),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in _REPLACED:
        logging.getLogger(name).setLevel(logging.WARNING)


def _service(
    logger: logging.Logger, method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    event.setdefault("service", SERVICE)
    return event
