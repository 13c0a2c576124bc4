"""Export a recorded run to an OpenTelemetry collector (OTLP/HTTP): the run, its node tasks and its LLM
calls as spans with the GenAI semantic-convention attributes.

One trace per run: a root span for the run, a child per node task, and under each task its LLM calls
(a replay's calls, recorded without a task, hang from the root). Call times are derived as
`ribao.runs.spans` says. Messages and replies are not exported (they stay in the run log).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

import ribao
from ribao.runs.rows import CallRow, NodeRow, RunRow
from ribao.runs.spans import Span, bounds, run_spans

TIMEOUT_S = 5.0  # the exporter retries a refused connection with backoff until this much has passed
# The exporter's timeout bounds each socket read, not the reply: a collector trickling its answer
# would hold the run's end forever. Past this, the export is given up (its thread is a daemon).
DEADLINE_S = TIMEOUT_S + 2.0
EXPORTER_LOGGER = "opentelemetry.exporter.otlp"


def _ns(value: dt.datetime) -> int:
    return int(value.timestamp() * 1_000_000_000)


def provider_of(settings: Mapping[str, Any], agent: str | None) -> str | None:
    """Return the provider name an agent's calls went to, from the run's recorded settings."""
    model = (settings.get("models") or {}).get(agent or "") or {}
    return model.get("provider") or settings.get("llm")


def span_attributes(span: Span, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Return one span's attributes: GenAI semantic conventions (gen_ai.*) plus ribao's own (ribao.*)."""
    attrs: dict[str, Any] = {"ribao.node": span.node, "ribao.derived_times": span.derived}
    if span.task_id:
        attrs["ribao.task_id"] = span.task_id
    if span.agent:
        attrs["gen_ai.agent.name"] = span.agent
    if span.kind == "node":
        if span.agent:
            attrs["gen_ai.operation.name"] = "invoke_agent"
        return attrs
    provider = provider_of(settings, span.agent)
    attrs |= {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": span.model or "",
        "gen_ai.usage.input_tokens": span.input_tokens,
        "gen_ai.usage.output_tokens": span.output_tokens,
        "ribao.task": span.name.removeprefix(f"{span.agent} "),
    }
    if span.cached_tokens:
        attrs["gen_ai.usage.cache_read.input_tokens"] = span.cached_tokens
    if provider:
        # gen_ai.provider.name replaced gen_ai.system; both are sent for collectors of either age.
        attrs["gen_ai.provider.name"] = attrs["gen_ai.system"] = provider
    if span.cost is not None:
        attrs["ribao.cost"] = span.cost
        attrs["ribao.currency"] = span.currency or ""
    if span.error:
        attrs["error.type"] = "rejected_output"
    return attrs


def build_spans(run: RunRow, nodes: Sequence[NodeRow], calls: Sequence[CallRow]) -> list[Any]:
    """Return the run's finished OpenTelemetry spans (SDK `ReadableSpan`s), root first."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "ribao", "service.version": ribao.__version__})
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("ribao.runs")
    spans = run_spans(nodes, calls)
    start, end = bounds(spans) or (run.started_at, run.finished_at or run.started_at)
    start = min(start, run.started_at)
    end = max(end, run.finished_at or end)
    root_attrs: dict[str, Any] = {
        "ribao.run_id": run.run_id,
        "ribao.status": run.status,
        "gen_ai.workflow.name": "ribao",
    }
    if run.date:
        root_attrs["ribao.date"] = run.date.isoformat()
    if run.cost is not None:
        root_attrs |= {"ribao.cost": run.cost, "ribao.currency": run.currency or ""}
    root = tracer.start_span("ribao run", start_time=_ns(start), attributes=root_attrs)
    made: dict[str, Any] = {}
    for span in [s for s in spans if s.kind == "node"] + [s for s in spans if s.kind == "call"]:
        parent = made.get(span.parent_id or "", root)
        name = span.name if span.kind == "node" else f"chat {span.model}"
        otel = tracer.start_span(
            name,
            context=trace.set_span_in_context(parent),
            kind=SpanKind.CLIENT if span.kind == "call" else SpanKind.INTERNAL,
            start_time=_ns(span.start),
            attributes=span_attributes(span, run.settings),
        )
        if span.error:
            otel.set_status(Status(StatusCode.ERROR, span.error))
        made[span.span_id] = otel
    for span in spans:
        made[span.span_id].end(end_time=_ns(span.end))
    if run.error:
        root.set_status(Status(StatusCode.ERROR, run.error))
    root.end(end_time=_ns(end))
    provider.shutdown()
    finished = list(memory.get_finished_spans())
    return finished[-1:] + finished[:-1]


class _Collect(logging.Handler):
    """Keep log records in a list."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep `record`."""
        self.records.append(record)


@contextmanager
def _exporter_log() -> Iterator[list[logging.LogRecord]]:
    """Collect the exporter's log records instead of printing them: the caller reports one line."""
    handler = _Collect()
    logger = logging.getLogger(EXPORTER_LOGGER)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _reason(records: Sequence[logging.LogRecord]) -> str:
    """Return why the export failed, from the exporter's log: an HTTP status, else the last error."""
    for record in reversed(records):
        args = record.args if isinstance(record.args, tuple) else ()
        if record.levelno >= logging.ERROR and len(args) == 3 and isinstance(args[1], int):
            return f"HTTP {args[1]} {args[2] or ''}".strip()
        for arg in args:
            if isinstance(arg, BaseException):
                text = " ".join(str(arg).split())
                return (
                    "connection refused"
                    if "refused" in text.lower()
                    else f"{type(arg).__name__}: {text[:160]}"
                )
    return "the collector did not accept the spans"


def _send(exporter: OTLPSpanExporter, spans: Sequence[Any], deadline: float) -> tuple[bool | None, list[Any]]:
    """Export in a daemon thread and wait at most `deadline` seconds; return (accepted, log records),
    accepted None when the collector had not answered by then. Ctrl-C interrupts the wait."""
    done: list[bool] = []
    records: list[logging.LogRecord] = []

    def send() -> None:
        with _exporter_log() as got:
            try:
                done.append(exporter.export(spans) is SpanExportResult.SUCCESS)
            finally:
                records.extend(got)
                exporter.shutdown()

    worker = threading.Thread(target=send, name="ribao-otlp-export", daemon=True)
    worker.start()
    worker.join(deadline)
    return (done[0] if done else None), records


def export_run(
    run: RunRow,
    nodes: Sequence[NodeRow],
    calls: Sequence[CallRow],
    endpoint: str,
    *,
    timeout: float | None = None,
    deadline: float | None = None,
) -> str | None:
    """Send the run's spans to the OTLP/HTTP traces `endpoint` in one request; return None when the
    collector accepted them, else a one-line reason (never raises for a collector that is down, and
    gives up after `deadline` seconds, default `DEADLINE_S`, whatever the collector does; `timeout`
    defaults to `TIMEOUT_S`)."""
    timeout = TIMEOUT_S if timeout is None else timeout
    deadline = DEADLINE_S if deadline is None else deadline
    spans = build_spans(run, nodes, calls)
    accepted, records = _send(OTLPSpanExporter(endpoint=endpoint, timeout=timeout), spans, deadline)
    if accepted:
        return None
    reason = f"no complete answer within {deadline:g} s" if accepted is None else _reason(records)
    return f"could not export run {run.run_id} to the OTLP collector at {endpoint}: {reason}"
