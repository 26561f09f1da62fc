"""An OTLP/HTTP trace receiver in the test's (or the bench's) own process: what a collector would get.

The services export spans with OTLP over HTTP and protobuf (`POST /v1/traces`, an
`ExportTraceServiceRequest`); this receiver decodes them with the opentelemetry-proto messages and keeps
them, so a test can assert the trees they form across processes. The bench keeps none (`keep=False`),
it only counts: it measures what exporting costs the services, not what decoding costs the receiver.

    with OtlpReceiver() as receiver:
        env = {**env, **receiver.environment()}     # tracing on, for the services started with env
        ...
        spans = receiver.trace_of(task_id)
"""

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from testkit.infrastructure import HOST

TRACES_PATH = "/v1/traces"
#: Span kinds by their number in the protocol.
KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class ExportedSpan:
    trace_id: str
    span_id: str
    #: "" for a root span.
    parent_id: str
    name: str
    kind: str
    service: str
    pid: int | None
    attributes: dict[str, Any]
    #: The span ids this span links to, with the links' attributes.
    links: dict[str, dict[str, Any]]
    #: 0 unset, 1 ok, 2 error.
    status: int


@dataclass
class OtlpReceiver:
    """A receiver on a free loopback port; use it as a context manager."""

    keep: bool = True
    spans: list[ExportedSpan] = field(default_factory=list)
    #: Export requests taken, and the spans they held.
    requests: int = 0
    span_count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the receiver is not running"
        return f"http://{HOST}:{self._server.server_address[1]}"

    def environment(self) -> dict[str, str]:
        """The variables that turn a service's tracing on, exporting here soon after each span ends."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            # The SDK's default batch delay is 5 s; a test should not wait that long for its spans.
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }

    def __enter__(self) -> "OtlpReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver._take(body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: a line per export would fill the test's output."""

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        spans = list(_spans(request)) if self.keep else []
        count = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
        with self._lock:
            self.requests += 1
            self.span_count += count
            self.spans.extend(spans)

    def snapshot(self) -> list[ExportedSpan]:
        with self._lock:
            return list(self.spans)

    def trace_of(self, task_id: str) -> list[ExportedSpan]:
        """Every span of the traces in which some span names `task_id` (`taskgate.task_id`)."""
        spans = self.snapshot()
        traces = {span.trace_id for span in spans if span.attributes.get("taskgate.task_id") == task_id}
        return [span for span in spans if span.trace_id in traces]

    def wait_for(
        self, what: str, found: Callable[[list[ExportedSpan]], bool], within: float = 30.0
    ) -> list[ExportedSpan]:
        """The spans received, once `found` holds for them; AssertionError naming `what` after `within` s."""
        deadline = time.monotonic() + within
        while not found(spans := self.snapshot()):
            assert time.monotonic() < deadline, f"{what}: not exported within {within:.0f} s"
            time.sleep(0.1)
        return spans


def _spans(request: ExportTraceServiceRequest) -> Iterator[ExportedSpan]:
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield ExportedSpan(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_id=span.parent_span_id.hex(),
                    name=span.name,
                    kind=KINDS.get(span.kind, str(span.kind)),
                    service=str(resource.get("service.name", "")),
                    pid=resource.get("process.pid"),
                    attributes=_attributes(span.attributes),
                    links={link.span_id.hex(): _attributes(link.attributes) for link in span.links},
                    status=span.status.code,
                )


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None
