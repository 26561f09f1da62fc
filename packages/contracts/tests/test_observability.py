"""When tracing is on, and which log format a service picks."""

import io

import pytest

from taskgate_contracts.observability import Observability, TracingSettingError, tracing_requested


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "api"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_TRACES_EXPORTER": "otlp"}, True),
    ],
)
def test_tracing_is_on_only_when_the_variables_ask_for_it(environ: dict[str, str], on: bool) -> None:
    assert tracing_requested(environ) is on


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
    ],
)
def test_what_the_services_cannot_export_is_refused_naming_the_variable(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(TracingSettingError, match=f"^invalid setting {named}: "):
        tracing_requested({**environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})


class _Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_the_log_format_is_text_in_a_terminal_and_json_elsewhere_unless_set() -> None:
    assert Observability().chosen_log_format(_Stream(terminal=True)) == "text"
    assert Observability().chosen_log_format(_Stream(terminal=False)) == "json"
    assert Observability(log_format="json").chosen_log_format(_Stream(terminal=True)) == "json"
    assert Observability(log_format="text").chosen_log_format(_Stream(terminal=False)) == "text"
