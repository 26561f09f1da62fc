"""Tracing on, for the scenarios that compare it with tracing off: an OTLP receiver in the bench's process
(testkit's, keeping nothing: it counts the spans), and the environment that turns the services' tracing
on towards it. A scenario starts its traced services with `environment`, runs as it does untraced, and
adds `exported` to its figures.

    with Traced() as traced:
        api = start_api("api-traced", {**env, **traced.environment}, logs)
"""

from dataclasses import dataclass, field

from bench.targets import Figure, reported
from testkit.otlp import OtlpReceiver

#: What the scenarios traced this way add to their names.
LABEL = "tracing on (OTLP to a local receiver)"


@dataclass
class Traced:
    receiver: OtlpReceiver = field(default_factory=lambda: OtlpReceiver(keep=False))

    def __enter__(self) -> "Traced":
        self.receiver.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.receiver.__exit__(*exc)

    @property
    def environment(self) -> dict[str, str]:
        # The SDK's default batching (a 5 s delay, 512 spans a batch), as a deployment would run it.
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.receiver.endpoint}

    def exported(self) -> Figure:
        return reported("spans exported to the receiver", self.receiver.span_count, "")
