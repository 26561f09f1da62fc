"""The api's log lines: one handler on the root logger writing JSON objects or text (LOG_FORMAT), for the
api's own lines and uvicorn's alike, each naming the service, so lines from every process can be merged.

structlog renders the standard library's records (uvicorn and the libraries log through it); a line's
`extra` fields become JSON fields, or `key=value` pairs in text.
"""

import logging
import sys

import structlog

from taskgate_contracts.observability import LogFormat

SERVICE = "taskgate-api"


def configure(log_format: LogFormat, level: str) -> None:
    """Send every log record to stderr in `log_format`, from `level` up."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            _common,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # A traceback is one JSON string, not lines of its own that a collector would take apart.
            *([structlog.processors.format_exc_info] if log_format == "json" else []),
            structlog.processors.EventRenamer("message"),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())


def _common(
    logger: logging.Logger, method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    event.setdefault("service", SERVICE)
    event.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    return event
