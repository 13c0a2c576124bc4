"""A loopback OpenTelemetry collector: OTLP/HTTP traces decoded from protobuf (no tests here)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.support.loopback import LoopbackServer


@dataclass
class ReceivedSpan:
    """One span as the collector received it: ids as hex, attributes as Python values."""

    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status_code: int
    status_message: str
    resource: dict[str, Any]


def _value(v: AnyValue) -> Any:
    return getattr(v, v.WhichOneof("value") or "string_value")


class Collector:
    """Receive `POST /v1/traces` (application/x-protobuf) on 127.0.0.1; `status` is the reply's code.

    With `trickle` set, a reply's status and headers are sent at once and its body one byte every
    0.1 s for five minutes (as a collector behind a choking proxy): a client's read timeout never fires."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.content_types: list[str] = []
        self.status = 200
        self.trickle = False
        self.received = threading.Event()
        self.closed = threading.Event()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                collector.content_types.append(self.headers.get("Content-Type", ""))
                if self.path == "/v1/traces":
                    collector.requests.append(ExportTraceServiceRequest.FromString(body))
                collector.received.set()
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(collector.status if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                if collector.trickle:
                    self.send_header("Content-Length", "3000")
                    self.end_headers()
                    for _ in range(3000):  # five minutes at most, a guard: close() ends it
                        if collector.closed.wait(0.1):
                            return
                        self.wfile.write(b"\0")
                        self.wfile.flush()
                    return
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def spans(self) -> list[ReceivedSpan]:
        """Return every span received, in the order received."""
        out = []
        for request in self.requests:
            for rs in request.resource_spans:
                resource = {a.key: _value(a.value) for a in rs.resource.attributes}
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        out.append(
                            ReceivedSpan(
                                name=s.name,
                                kind=s.kind,
                                trace_id=s.trace_id.hex(),
                                span_id=s.span_id.hex(),
                                parent_span_id=s.parent_span_id.hex(),
                                start_ns=s.start_time_unix_nano,
                                end_ns=s.end_time_unix_nano,
                                attributes={a.key: _value(a.value) for a in s.attributes},
                                status_code=s.status.code,
                                status_message=s.status.message,
                                resource=resource,
                            )
                        )
        return out

    def close(self) -> None:
        """Stop serving (a trickling reply stops) and close the socket."""
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()
