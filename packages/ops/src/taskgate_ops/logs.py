"""The log lines of the processes ops runs for good — Flower: one handler on the root logger writing JSON
objects or text (LOG_FORMAT), each naming the service, so its lines merge with the api's and the worker's.

Flower's own setup (tornado's) adds a handler only to a root logger that has none, so configuring it
first is enough; `flowerprocess` does that before it hands over to Celery's command line.
"""

import logging
import sys

import structlog

from taskgate_contracts.observability import LogFormat

SERVICE = "taskgate-flower"


def configure(log_format: LogFormat, level: int = logging.INFO) -> None:
    """Send every log record to stderr in `log_format`, from `level` up."""
    json = log_format == "json"
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    chain: list[structlog.typing.Processor] = [
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*chain, _named],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if json else []),
                structlog.processors.EventRenamer("message"),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)


def _named(
    logger: logging.Logger, method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    event.setdefault("service", SERVICE)
    return event
