"""`RunRecorder` on the real graph: the 2026-02-18 listing, scripted agents, the run log read back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.app.services import Services
from ribao.app.write import graph_steps
from ribao.calls import LLMCall
from ribao.errors import LLMOutputError, NoAnnouncement, ProviderError
from ribao.graph.builder import compile_graph
from ribao.registry import NODES
from ribao.runs import RunLog, RunRow
from ribao.runs.recorder import RunRecorder, brief, status_for
from ribao.schemas import Paper
from ribao.settings import MemorySettings, Settings
from tests.support.fakes import ScriptedChatModel, default_responder
from tests.support.runs_cli import app
from tests.support.samples import sample_listing

REASON = "价值不如候选"


def price(call: LLMCall) -> tuple[float | None, str]:
    return (call.input_tokens * 2 + call.output_tokens * 8) / 1e6, "CNY"


def critic_replacing_once() -> Any:
    rounds: list[int] = []

    def critic(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        args = default_responder(name, schema, messages)
        rounds.append(1)
        if len(rounds) == 1:
            first = next(iter(args))
            alternates = schema["properties"][first]["properties"]["replacement"]["enum"]
            args[first] = {"decision": "replace", "reason": REASON, "replacement": alternates[0]}
        return args

    return critic


def recorded_run(settings: Settings, *, price: Any = price, **responders: Any) -> tuple[str, RunLog]:
    """Run the graph the way the runner does, feeding every `tasks` event to a `RunRecorder`;
    each call is priced by `price`."""
    models = {a: ScriptedChatModel(responder=responders.get(a, default_responder), model_name=f"fake-{a}")
              for a in ("screener", "critic", "writer", "editor")}  # fmt: skip
    run_id = "01K2RECORDERTEST0000000000"
    ctx = Services(settings, models).context(run_id)
    ctx.price = price
    log = RunLog.open(settings.home)
    recorder = RunRecorder(log, run_id)
    recorder.start(settings, date=None)

    async def go() -> None:
        inputs = {"requested_date": None, "max_critic_rounds": settings.max_critic_rounds}
        config: Any = {"configurable": {"thread_id": run_id}, "recursion_limit": graph_steps(settings)}
        async for _, data in compile_graph().astream(inputs, config, context=ctx, stream_mode=["tasks"]):
            recorder.event(data)

    try:
        asyncio.run(go())
    except BaseException as exc:
        recorder.finish(error=exc, prompts=ctx.prompts.used)
        raise
    recorder.finish(prompts=ctx.prompts.used)
    return run_id, log


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", source=str(sample_listing()), out_dir=tmp_path / "out",
                    memory=MemorySettings(enabled=False))  # fmt: skip


def assert_totals_add_up(log: RunLog, run: RunRow) -> None:
    usage = log.usage_by_agent(run.run_id)
    for field in ("input_tokens", "output_tokens", "cached_tokens"):
        assert sum(getattr(u, field) for u in usage.values()) == getattr(run, field)
    assert sum(u.cost or 0 for u in usage.values()) == pytest.approx(run.cost)


def test_a_recorded_run_has_its_nodes_calls_picks_and_critiques(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id, log = recorded_run(settings, critic=critic_replacing_once())
    run = log.get_run(run_id)
    assert run.status == "done" and str(run.date) == "2026-02-18" and run.error is None
    assert [p["rank"] for p in run.picks] == list(range(1, 14)) and all(p["title"] for p in run.picks)
    assert [c["verdict"] for c in run.critiques] == ["revise", "accept"]
    assert run.critiques[0]["decisions"][0]["reason"] == REASON
    assert run.prompts["critic/system.md.j2"]["source"] == "default"
    assert len(run.prompts["critic/system.md.j2"]["sha256"]) == 64
    assert run.settings["source"] == str(sample_listing()) and run.json_path and run.digest_path

    assert_totals_add_up(log, run)
    digest = json.loads(Path(run.json_path).read_text(encoding="utf-8"))
    assert (digest["usage"]["input_tokens"], digest["usage"]["output_tokens"]) == (
        run.input_tokens,
        run.output_tokens,
    )  # the digest's header counts the same calls
    assert digest["usage"]["cost"] == pytest.approx(run.cost)

    nodes = log.nodes(run_id)
    names = [n.node for n in nodes]
    assert names[:2] == ["fetch_listing", "recall_memory"] and names[-3:] == [
        "write_digest",
        "remember_digest",
        "deliver",
    ]
    assert names.count("critique_picks") == 2 and names.count("write_summary") == 13
    assert set(names) == set(NODES) and all(n.summary for n in nodes)  # every node recorded and described
    # Each screening round is a ranking task, then a reasons task, each with its own call.
    screening = [n for n in nodes if n.node in {"rank_papers", "write_reasons"}]
    assert [n.node for n in screening] == ["rank_papers", "write_reasons"] * 2
    assert [[c.task for c in log.calls(run_id, "screener") if c.task_id == n.task_id] for n in screening] == [
        ["rank round 1"], ["reasons round 1"], ["rank round 2"], ["reasons round 2"]
    ]  # fmt: skip
    assert screening[2].summary is not None and screening[2].summary.startswith(
        "round 2: 13 picks, must-read"
    )
    assert screening[3].summary == "reasons for 13 picks"
    critique = next(n for n in nodes if n.node == "critique_picks")
    assert critique.summary is not None and critique.summary.startswith("round 1: revise")
    writers = [n for n in nodes if n.node == "write_summary"]
    assert all(len([c for c in log.calls(run_id, "writer") if c.task_id == n.task_id]) == 1 for n in writers)
    assert writers[0].inputs["pick"]["arxiv_id"] in {p["arxiv_id"] for p in run.picks} | {
        d["arxiv_id"] for c in run.critiques for d in c["decisions"]
    }
    assert nodes[0].outputs["candidates"][0].keys() == {"arxiv_id", "title"}

    monkeypatch.setenv("RIBAO_HOME", str(settings.home))
    monkeypatch.setenv("COLUMNS", "200")
    out = CliRunner().invoke(app, ["runs", "trace", run_id[:8], "--agent", "critic"]).output
    assert out.count(REASON) >= 3  # the reply, its verdict table, and the applied decision
    assert "round 1: revise" in out and "round 2: accept" in out


def test_each_call_is_priced_once_and_every_total_reads_that_price(settings: Settings) -> None:
    priced: list[LLMCall] = []

    def counting(call: LLMCall) -> tuple[float | None, str]:
        priced.append(call)
        return price(call)

    run_id, log = recorded_run(settings, price=counting)
    calls = log.calls(run_id)
    assert len(priced) == len(calls) > 0  # once per call, none twice
    assert [(c.task, c.cost) for c in calls] == [(c.task, pytest.approx(price(c)[0])) for c in priced]
    run = log.get_run(run_id)
    digest = json.loads(Path(run.json_path or "").read_text(encoding="utf-8"))
    assert (
        digest["usage"]["cost"] == pytest.approx(run.cost) == pytest.approx(sum(c.cost or 0 for c in calls))
    )
    assert run.currency == digest["usage"]["currency"] == "CNY"


def test_a_failed_run_keeps_the_rejected_attempts(settings: Settings) -> None:
    def writer(name: str, schema: dict[str, Any], messages: list[Any]) -> Any:
        from langchain_core.messages import AIMessage

        return AIMessage(content="no tool call")

    with pytest.raises(LLMOutputError):
        recorded_run(settings, writer=writer)
    log = RunLog.open(settings.home)
    run = log.list_runs()[0]
    assert run.status == "failed" and run.error is not None and run.error.startswith("LLMOutputError: writer")
    writer_calls = log.calls(run.run_id, "writer")
    assert len(writer_calls) >= 3 and all(c.error for c in writer_calls)
    failed = [n for n in log.nodes(run.run_id) if n.error]
    assert failed and failed[0].node == "write_summary"
    assert len(run.picks) == 13 and run.digest_path is None
    assert_totals_add_up(log, run)


def test_status_for_maps_outcomes() -> None:
    assert status_for(None) == "done"
    assert status_for(NoAnnouncement("weekend")) == "no_announcement"
    assert status_for(KeyboardInterrupt()) == "interrupted"
    assert status_for(asyncio.CancelledError()) == "interrupted"
    assert status_for(ProviderError("503")) == "failed"


def test_brief_cuts_node_inputs_down() -> None:
    paper = Paper(arxiv_id="2602.00001", title="T", title_display="T", abstract="a" * 999,
                  primary_category="cs.CL")  # fmt: skip
    state = {"candidates": [paper] * 5, "note": "x" * 500, "llm_calls": [1, 2], "n": 3}
    assert brief(state, items=3, chars=10) == {
        "candidates": [{"arxiv_id": "2602.00001", "title": "T"}] * 3 + ["… 2 more"],
        "note": "x" * 10 + "…",
        "llm_calls": 2,
        "n": 3,
    }
