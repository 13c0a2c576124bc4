"""The whole graph with scripted agents: sample settings, the agents, one run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ribao.app.services import Services
from ribao.app.write import RunResult, write_day
from ribao.context import RunContext
from ribao.memory import MemoryStore
from ribao.prompts import PromptLibrary
from ribao.runs.trace import Tracer
from ribao.settings import MemorySettings, Settings
from tests.support.fakes import ScriptedChatModel, default_responder
from tests.support.samples import sample_listing

DAY = "2026-02-18"
RETRY_MARK = "你上一次的回答未通过检查"


def sample_settings(tmp_path: Path, **updates: Any) -> Settings:
    """Settings of a run on the sample day in `tmp_path`: hash embedder, then `updates`."""
    return Settings(
        home=tmp_path / "home",
        source=str(sample_listing()),
        out_dir=tmp_path / "out",
        memory=MemorySettings(embedder="hash"),
    ).model_copy(update=updates)


#: 40 real papers of 2026-02-19: for tests of one agent's behaviour, where the day's size plays no part.
FIRST40 = Path(__file__).parent.parent / "data" / "2026-02-19.first40.jsonl"


def models(**responders: Any) -> dict[str, ScriptedChatModel]:
    return {
        agent: ScriptedChatModel(
            responder=responders.get(agent, default_responder), model_name=f"fake-{agent}"
        )
        for agent in ("screener", "critic", "writer", "editor")
    }


def run(settings: Settings, memory: MemoryStore | None, agents: dict[str, ScriptedChatModel]) -> RunResult:
    return asyncio.run(write_day(Services(settings, agents, memory=memory), None, tracer=Tracer(quiet=True)))


def context(settings: Settings, agents: dict[str, Any] | None = None) -> RunContext:
    """A run context for calling one node directly: these agents, the packaged prompts, no listing."""
    return RunContext(
        settings=settings,
        models=agents or {},
        prompts=PromptLibrary(),
        read_listing=lambda day: None,  # type: ignore[arg-type,return-value]
        run_id="t-fail",
    )
