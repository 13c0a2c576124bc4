"""Replay one agent of a recorded run on its exact inputs; the run and the memory stay untouched."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ribao.graph.replay import replay_agent
from ribao.graph.runner import build_context
from ribao.memory import HashEmbedder, MemoryStore
from ribao.settings import MemorySettings, Settings
from tests.fakes import ScriptedChatModel, valid_args
from tests.test_graph import models, run


def test_replay_each_agent_on_recorded_inputs(tmp_path: Path) -> None:
    from ribao.cli import sample_listing

    settings = Settings(
        home=tmp_path / "home", source=str(sample_listing()), out_dir=tmp_path / "out",
        memory=MemorySettings(embedder="hash"),
    )  # fmt: skip
    memory = MemoryStore.open(tmp_path / "memory", embedder=HashEmbedder())
    result = run(settings, memory, models())
    digest_before = result.digest_path.read_bytes()
    json_before = json.loads(result.json_path.read_text(encoding="utf-8"))
    memory_before = memory.stats().count

    def new_writer(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        return valid_args(schema, text="换一种写法的中文摘要内容")

    replacement = models(writer=new_writer)
    ctx = build_context(settings, models=replacement, configs=None, memory=None,
                        run_id="replay-test")  # fmt: skip
    outcome = asyncio.run(replay_agent("writer", result.run_id, ctx))
    assert (
        set(outcome.recorded["summaries"])
        == set(outcome.new["summaries"])
        == {p["arxiv_id"] for p in json_before["picks"]}
    )
    one = json_before["picks"][5]["arxiv_id"]
    assert outcome.recorded["summaries"][one].one_line != outcome.new["summaries"][one].one_line
    assert "换一种写法" in outcome.new["summaries"][one].one_line
    assert len(outcome.new_calls) == 13 and len(outcome.recorded_calls) == 13
    # The writer saw exactly the recorded inputs: same pick prompts as in the run.
    assert sorted(r["messages"][1] for r in replacement["writer"].requests) == sorted(
        c.messages[1]["content"] for c in outcome.recorded_calls
    )

    screener = asyncio.run(replay_agent("screener", result.run_id, ctx))
    assert [p.arxiv_id for p in screener.new["picks"]] == [p.arxiv_id for p in screener.recorded["picks"]]
    assert len(screener.new_calls) == 11  # 9 triage batches, rank, reasons
    critic = asyncio.run(replay_agent("critic", result.run_id, ctx))
    assert critic.new["critique"].verdict == critic.recorded["critique"].verdict == "accept"
    editor = asyncio.run(replay_agent("editor", result.run_id, ctx))
    assert editor.recorded["lead"] and editor.new["lead"]

    # Nothing of the original run changed.
    assert result.digest_path.read_bytes() == digest_before
    assert memory.stats().count == memory_before
    assert isinstance(replacement["writer"], ScriptedChatModel)
