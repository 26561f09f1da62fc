"""What the services agree on to be followed across processes: the names their log lines and spans give a
task, the `LOG_FORMAT` setting, and when tracing is on.

Plain data and a pure function, so contracts stays light: the api, the worker and ops each set up their
own logging and OpenTelemetry with these names, and an operator searches every service's lines and spans
for the same fields.
"""

import sys
from collections.abc import Mapping
from typing import Literal, TextIO

from pydantic import BaseModel, Field

#: Span attributes and log fields naming the task a line or a span is about.
TASK_ID = "taskgate.task_id"
TASK_TYPE = "taskgate.task_type"
#: The name of the API key a request was made with (never the key itself).
KEY_NAME = "taskgate.key"
#: The role of that key: `client` or `admin`.
KEY_ROLE = "taskgate.key_role"

#: The header a client may send to name its request; the api echoes it (or one it made up) back.
REQUEST_ID_HEADER = "X-Request-ID"

LogFormat = Literal["json", "text"]

#: The variables that turn tracing on: an exporter named, or an OTLP endpoint given.
_EXPORTER_VARIABLE = "OTEL_TRACES_EXPORTER"
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
_SDK_DISABLED_VARIABLE = "OTEL_SDK_DISABLED"
#: The one exporter the services ship: OTLP over HTTP with protobuf, the protocol the specification
#: makes the default, which every collector and tracing backend takes.
_EXPORTERS = ("otlp", "none")
_PROTOCOL = "http/protobuf"


class TracingSettingError(ValueError):
    """An OTEL_* variable asks for what the services cannot do; the message names it."""


class Observability(BaseModel):
    """The logging setting every service reads, mixed into its settings like `Connections`."""

    log_format: LogFormat | None = Field(
        None,
        description="`json` (one object a line) or `text`; unset, text when stderr is a terminal, else json.",
    )

    def chosen_log_format(self, stream: TextIO | None = None) -> LogFormat:
        """LOG_FORMAT, or what suits `stream` (stderr): a person reads text, a log collector wants JSON."""
        if self.log_format is not None:
            return self.log_format
        return "text" if (stream or sys.stderr).isatty() else "json"


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """Whether the standard OpenTelemetry variables ask for traces: an OTLP endpoint is given, or
    OTEL_TRACES_EXPORTER=otlp. Unlike the SDK's own default (`otlp` to localhost), nothing set means no
    tracing at all; OTEL_SDK_DISABLED=true turns it off whatever else. Raises TracingSettingError for an
    exporter or protocol the services do not ship (a gRPC one, say)."""
    if environ.get(_SDK_DISABLED_VARIABLE, "").strip().lower() == "true":
        return False
    exporter = environ.get(_EXPORTER_VARIABLE, "").strip().lower()
    if exporter not in ("", *_EXPORTERS):
        raise TracingSettingError(
            f"invalid setting {_EXPORTER_VARIABLE}: {exporter!r} is not supported; use otlp (over HTTP) "
            "or none"
        )
    for name in _PROTOCOL_VARIABLES:
        protocol = environ.get(name, "").strip().lower()
        if protocol and protocol != _PROTOCOL:
            raise TracingSettingError(
                f"invalid setting {name}: {protocol!r} is not supported; use {_PROTOCOL}"
            )
    if exporter:
        return exporter != "none"
    return any(environ.get(name, "").strip() for name in _ENDPOINT_VARIABLES)
