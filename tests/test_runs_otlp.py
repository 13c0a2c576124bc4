"""OpenTelemetry export: a recorded run's spans reach a loopback OTLP/HTTP collector with their parents
and GenAI attributes (`ribao runs export`, and after `ribao run`); a collector that is down is one
warning line, never a failed run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.http_run import respond, write_config
from tests.support.otlp_collector import Collector
from tests.support.runs import RUN_A, STEPS_A, populate
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI, closed_port_url

SPAN_KIND_INTERNAL, SPAN_KIND_CLIENT, STATUS_ERROR = 1, 3, 2


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.close()


def cli(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str) -> Any:
    monkeypatch.setenv("RIBAO_HOME", str(home))
    return CliRunner().invoke(app, list(args))


def test_runs_export_sends_the_runs_spans_with_parents_and_genai_attributes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector: Collector
) -> None:
    populate(tmp_path)
    result = cli(monkeypatch, tmp_path, "runs", "export", RUN_A[:8], "--endpoint", collector.endpoint)
    assert result.exit_code == 0, result.output
    calls = sum(len(c) for _, _, c in STEPS_A)
    assert f"exported run {RUN_A}: {1 + len(STEPS_A) + calls} spans" in result.output
    assert collector.content_types == ["application/x-protobuf"]  # one request for the whole run
    spans = collector.spans()
    assert len(spans) == 1 + len(STEPS_A) + calls and len({s.trace_id for s in spans}) == 1
    [root] = [s for s in spans if not s.parent_span_id]
    assert root.name == "ribao run" and root.attributes["ribao.run_id"] == RUN_A
    assert root.attributes["ribao.status"] == "done" and root.resource["service.name"] == "ribao"
    nodes = [s for s in spans if s.kind == SPAN_KIND_INTERNAL and s.parent_span_id == root.span_id]
    assert [n.name for n in sorted(nodes, key=lambda n: n.start_ns)] == [node for node, _, _ in STEPS_A]
    by_id = {s.span_id: s for s in spans}
    chats = [s for s in spans if s.kind == SPAN_KIND_CLIENT]
    assert len(chats) == calls
    for chat in chats:
        parent = by_id[chat.parent_span_id]
        assert parent.attributes["ribao.task_id"] == chat.attributes["ribao.task_id"]
        assert parent.start_ns <= chat.start_ns <= chat.end_ns <= parent.end_ns
        assert chat.name == f"chat {chat.attributes['gen_ai.request.model']}"
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.attributes["gen_ai.provider.name"] == chat.attributes["gen_ai.system"] == "deepseek"
    retry = next(s for s in chats if s.attributes["ribao.task"] == "2602.00009")
    assert retry.attributes["gen_ai.request.model"] == "model-writer"
    assert retry.attributes["gen_ai.usage.input_tokens"] == 1500
    assert retry.attributes["gen_ai.usage.output_tokens"] == 600
    assert retry.attributes["gen_ai.usage.cache_read.input_tokens"] == 150
    assert retry.attributes["gen_ai.agent.name"] == "writer" and retry.attributes["ribao.currency"] == "CNY"
    assert (retry.status_code, retry.status_message) == (STATUS_ERROR, "background: too short")
    writer_task = by_id[retry.parent_span_id]
    assert (
        writer_task.name == "write_summary"
        and writer_task.attributes["gen_ai.operation.name"] == "invoke_agent"
    )
    assert root.start_ns <= min(s.start_ns for s in spans) and root.end_ns >= max(s.end_ns for s in spans)


def test_runs_export_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    populate(tmp_path)
    none = cli(monkeypatch, tmp_path, "runs", "export", RUN_A)
    assert none.exit_code == 1 and "no OTLP endpoint: set [tracing] otlp_endpoint" in none.output
    url = closed_port_url() + "/traces"
    down = cli(monkeypatch, tmp_path, "runs", "export", RUN_A, "--endpoint", url)
    assert down.exit_code == 1
    assert down.output.splitlines() == [
        f"ribao: error: could not export run {RUN_A} to the OTLP collector at {url}: connection refused"
    ]


def test_a_run_exports_its_spans_and_a_down_collector_is_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openai_stub: StubOpenAI, collector: Collector
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    write_config(home, openai_stub.base_url)
    config = (home / "config.toml").read_text(encoding="utf-8")
    openai_stub.responder = respond
    monkeypatch.setenv("STUB_API_KEY", "sk-stub-key-0123456789")
    run = ["run", "--source", str(sample_listing()), "--out", str(tmp_path / "out"), "--quiet"]
    (home / "config.toml").write_text(config + f'[tracing]\notlp_endpoint = "{collector.endpoint}"\n')
    ok = cli(monkeypatch, home, *run)
    assert ok.exit_code == 0 and "warning" not in ok.output
    spans = collector.spans()
    [root] = [s for s in spans if not s.parent_span_id]
    assert root.attributes["ribao.status"] == "done" and root.attributes["ribao.date"] == "2026-02-18"
    chats = [s for s in spans if s.kind == SPAN_KIND_CLIENT]
    assert len(chats) == len(openai_stub.chat_requests)
    assert {s.attributes["gen_ai.provider.name"] for s in chats} == {"stub"}
    assert sum(s.attributes["gen_ai.usage.input_tokens"] for s in chats) == 1000 * len(chats)

    down = closed_port_url().removesuffix("/v1") + "/v1/traces"
    (home / "config.toml").write_text(config + f'[tracing]\notlp_endpoint = "{down}"\n')
    result = cli(monkeypatch, home, *run)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("ribao: warning: could not export run ")
    assert warnings[0].endswith(f"to the OTLP collector at {down}: connection refused")
