"""Replay one agent of a recorded run on its exact inputs; the run and the memory stay untouched."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ribao.app.replay import ReplayReport
from ribao.app.services import Services
from ribao.app.write import RunResult
from ribao.commands.replay import _show
from ribao.context import RunContext
from ribao.errors import LLMOutputError
from ribao.graph.replay import ReplayError, ReplayOutcome, replay_agent
from ribao.memory import HashEmbedder, MemoryStore
from ribao.settings import MemorySettings, Settings
from tests.support.fakes import ScriptedChatModel, default_responder, valid_args
from tests.support.graph import FIRST40, models, run, sample_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    from tests.support.samples import sample_listing

    return Settings(
        home=tmp_path / "home", source=str(sample_listing()), out_dir=tmp_path / "out",
        memory=MemorySettings(embedder="hash"),
    )  # fmt: skip


def replay(agent: str, result: RunResult, settings: Settings, agents: dict[str, Any]) -> ReplayOutcome:
    ctx = Services(settings, agents).context("replay-test")
    return asyncio.run(replay_agent(agent, result.run_id, ctx))


def other_triage(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
    """Triage that favours other candidates than `default_responder` (multiples of 5, not of 7)."""
    if name == "TriageScores":
        return {k: 9 if int(k[1:]) % 5 == 0 else 3 for k in valid_args(schema)}
    return default_responder(name, schema, messages)


def replace_first(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
    """A critic that asks to replace the first pick (a revise verdict)."""
    args = default_responder(name, schema, messages)
    first = next(iter(args))
    args[first] = {**args[first], "decision": "replace", "reason": "不如落选候选"}
    return args


def shown(outcome: ReplayOutcome, capsys: pytest.CaptureFixture[str]) -> str:
    _show(ReplayReport(outcome, "01RECORDED", "01REPLAY", None, "CNY", None, "CNY"))
    return capsys.readouterr().out


def test_replay_each_agent_on_recorded_inputs(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    memory = MemoryStore.open(tmp_path / "memory", embedder=HashEmbedder())
    result = run(settings, memory, models())
    digest_before = result.digest_path.read_bytes()
    json_before = json.loads(result.json_path.read_text(encoding="utf-8"))
    memory_before = memory.stats().count

    def new_writer(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        return valid_args(schema, text="换一种写法的中文摘要内容")

    replacement = models(writer=new_writer)
    outcome = replay("writer", result, settings, replacement)
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
    assert "+one_line: 换一种写法" in shown(outcome, capsys)

    # Other models give other outputs, and the comparison shows them.
    screener = replay("screener", result, settings, models(screener=other_triage))
    old = [p.arxiv_id for p in screener.recorded["picks"]]
    new = [p.arxiv_id for p in screener.new["picks"]]
    assert old == [p["arxiv_id"] for p in json_before["picks"]]  # one round, so the digest's picks
    assert new != old and len(new) == len(old) == 13
    assert len(screener.new_calls) == len(screener.recorded_calls) == 11  # 9 triage batches, rank, reasons
    assert {c.agent for c in screener.recorded_calls} == {"screener"}
    table = shown(screener, capsys)
    assert any(line.split("│")[1].strip().endswith("*") for line in table.splitlines() if "│" in line)

    critic = replay("critic", result, settings, models(critic=replace_first))
    (recorded,), (replayed,) = critic.recorded["critiques"], critic.new["critiques"]
    assert (recorded.verdict, replayed.verdict) == ("accept", "revise")
    assert len(critic.new_calls) == len(critic.recorded_calls) == 1
    assert "verdict: accept → revise" in shown(critic, capsys)

    def new_lead(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        return valid_args(schema, text="另一段导语的中文内容")

    editor = replay("editor", result, settings, models(editor=new_lead))
    assert editor.recorded["lead"] and "另一段导语" in editor.new["lead"] != editor.recorded["lead"]
    assert "replay lead:   另一段导语" in shown(editor, capsys)

    # Nothing of the original run changed.
    assert result.digest_path.read_bytes() == digest_before
    assert memory.stats().count == memory_before
    assert isinstance(replacement["writer"], ScriptedChatModel)


def test_the_screener_and_critic_replay_their_first_round_of_several(settings: Settings) -> None:
    """A run whose critic sent the picks back: the recorded side is round 1, not the final round."""
    verdicts: list[str] = []

    def once(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        verdicts.append("replace" if not verdicts else "keep")
        return (
            replace_first(name, schema, messages)
            if len(verdicts) == 1
            else default_responder(name, schema, messages)
        )

    result = run(settings, None, models(critic=once))
    assert verdicts == ["replace", "keep"]
    final = json.loads(result.json_path.read_text(encoding="utf-8"))
    screener = replay("screener", result, settings, models())
    assert screener.recorded["picks"] == screener.new["picks"]  # same models, same first round
    assert [p.arxiv_id for p in screener.recorded["picks"]] != [p["arxiv_id"] for p in final["picks"]]
    assert len(screener.recorded_calls) == 11  # round 2's rank and reasons are not part of it
    critic = replay("critic", result, settings, models())
    (recorded,), (replayed,) = critic.recorded["critiques"], critic.new["critiques"]
    assert (recorded.round, recorded.verdict, replayed.verdict) == (1, "revise", "accept")


def context(settings: Settings) -> RunContext:
    return Services(settings, models()).context("replay-test")


def test_replay_errors_name_what_is_missing(tmp_path: Path) -> None:
    # The 40-paper listing: what is missing from a run does not depend on the day's size.
    settings = sample_settings(tmp_path, source=str(FIRST40))
    with pytest.raises(ReplayError, match="unknown agent 'nosuch'; known: screener, critic, writer, editor"):
        asyncio.run(replay_agent("nosuch", "01ANY", context(settings)))
    with pytest.raises(ReplayError, match="no checkpoints"):
        asyncio.run(replay_agent("editor", "01NOSUCHRUN", context(settings)))
    assert not (settings.home / "checkpoints.sqlite").exists()  # looking did not create the database

    def broken(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        return {}  # never valid: the writers fail the run

    with pytest.raises(LLMOutputError):
        run(settings, None, models(writer=broken))
    from ribao.runs.db import RunLog

    with RunLog.open(settings.home) as log:
        failed = log.list_runs()[0].run_id
    with pytest.raises(ReplayError, match="no checkpoints"):  # the database exists, the thread does not
        asyncio.run(replay_agent("editor", "01NOSUCHRUN", context(settings)))
    with pytest.raises(ReplayError, match="the run did not finish write_summary"):
        asyncio.run(replay_agent("writer", failed, context(settings)))
    with pytest.raises(ReplayError, match="the run never reached write_lead"):
        asyncio.run(replay_agent("editor", failed, context(settings)))
    # What the failed run did finish still replays.
    critic = asyncio.run(replay_agent("critic", failed, context(settings)))
    assert critic.recorded == critic.new
