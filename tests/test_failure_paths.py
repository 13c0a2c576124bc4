"""Failure paths that each end in a typed error (one CLI line) and write nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel

from ribao.agents.editor import write_digest, write_lead
from ribao.agents.screener import rank_papers
from ribao.app.services import Services
from ribao.app.write import write_day
from ribao.errors import LLMOutputError, MissingSummary, NothingToScreen, RibaoError, RunTooLong
from ribao.graph.replay import ReplayError, replay_agent
from ribao.llm.structured import ainvoke_structured
from ribao.runs.trace import Tracer
from ribao.schemas import Exclusion
from ribao.settings import Settings
from tests.support.fakes import ScriptedChatModel, valid_args
from tests.support.graph import context, models, run, sample_settings
from tests.support.papers import paper, pick, summary

DAY = dt.date(2026, 2, 18)


class Lead(BaseModel):
    lead: str


def test_a_reply_cut_at_the_token_limit_is_reasked_then_fails() -> None:
    def cut(name: str, schema: dict[str, Any], messages: list[Any]) -> AIMessage:
        return AIMessage(
            content="",
            tool_calls=[{"name": name, "args": {"lead": "半句"}, "id": "c1"}],
            response_metadata={"finish_reason": "length"},
        )

    model = ScriptedChatModel(responder=cut)
    with pytest.raises(LLMOutputError) as err:
        asyncio.run(
            ainvoke_structured(model, Lead, [HumanMessage("x")], agent="editor", task="lead", retries=1)
        )
    assert len(err.value.calls) == 2 and len(model.requests) == 2
    assert all("max_tokens" in (c.error or "") for c in err.value.calls)


def test_replay_of_a_run_without_checkpoints_is_a_replay_error(tmp_path: Path) -> None:
    ctx = context(Settings(home=tmp_path / "home"))
    with pytest.raises(ReplayError, match="no checkpoints"):
        asyncio.run(replay_agent("editor", "01NOSUCHRUN", ctx))
    assert issubclass(ReplayError, RibaoError)


def test_a_pick_without_summary_stops_the_editor_before_any_call_or_file(tmp_path: Path) -> None:
    a, b = paper(1), paper(2)
    state: dict[str, Any] = {
        "date": DAY,
        "candidates": [a, b],
        "picks": [pick(a, 1), pick(b, 2)],
        "summaries": {a.arxiv_id: summary(a, "must_read")},
        "llm_calls": [],
    }
    editor = ScriptedChatModel(responder=lambda n, s, m: valid_args(s))
    settings = Settings(home=tmp_path / "home", out_dir=tmp_path / "out")
    runtime = Runtime(context=context(settings, {"editor": editor}))
    with pytest.raises(MissingSummary, match=b.arxiv_id):
        asyncio.run(write_lead(state, runtime))  # type: ignore[arg-type]
    with pytest.raises(MissingSummary, match="refusing to write a shorter digest"):
        write_digest(state, runtime)  # type: ignore[arg-type]
    assert editor.requests == [] and not (tmp_path / "out").exists()


def test_nothing_to_screen_when_every_candidate_was_featured_before(tmp_path: Path) -> None:
    a = paper(1)
    state: dict[str, Any] = {
        "date": DAY,
        "candidates": [a],
        "excluded": [Exclusion(arxiv_id=a.arxiv_id, featured_on=dt.date(2026, 2, 17))],
    }
    runtime = Runtime(context=context(Settings(home=tmp_path / "home")))
    with pytest.raises(NothingToScreen, match="nothing to screen"):
        asyncio.run(rank_papers(state, runtime))  # type: ignore[arg-type]


def test_two_picks_cannot_claim_the_same_replacement(settings: Settings) -> None:
    """The critic names one alternate for two picks: the first keeps it, the second gets none."""

    def critic(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        args = valid_args(schema)
        replacement = _first_alternate(schema)
        for key in list(args)[:2]:
            args[key] = {**args[key], "decision": "replace", "replacement": replacement}
        return args

    agents = models(critic=critic)
    result = run(settings.model_copy(update={"max_critic_rounds": 1}), None, agents)
    data = json.loads(result.json_path.read_text(encoding="utf-8"))
    decisions = data["critiques"][0]["decisions"]
    replaced = [d for d in decisions if d["decision"] == "replace"]
    assert len(replaced) == 2
    assert replaced[0]["replacement"] is not None and replaced[1]["replacement"] is None


def _first_alternate(schema: dict[str, Any]) -> str:
    """Return the first key the critic's schema allows as a replacement."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "replacement" in node.get("properties", {}):
                spec = node["properties"]["replacement"]
                for option in [spec, *spec.get("anyOf", [])]:
                    found.extend(option.get("enum", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert found, "the critic schema names no alternates"
    return found[0]


def test_the_recursion_limit_is_a_typed_error_and_writes_nothing(settings: Settings) -> None:
    services = Services(settings, models(), recursion_limit=3)
    with pytest.raises(RunTooLong, match="recursion limit"):
        asyncio.run(write_day(services, None, tracer=Tracer(quiet=True)))
    assert not settings.out_dir.exists() or not any(settings.out_dir.iterdir())


def test_build_context_binds_no_stars_client_when_stars_are_off(settings: Settings) -> None:
    ctx = Services(settings, {}).context("t")
    assert ctx.stars is None
    on = settings.model_copy(update={"github": settings.github.model_copy(update={"stars": True})})
    assert Services(on, {}).context("t").stars is not None


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    from ribao.settings import MemorySettings

    return sample_settings(tmp_path, memory=MemorySettings(embedder="hash", enabled=False))
