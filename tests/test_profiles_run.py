"""One profile in a run: the picks follow the reader, say why, and a thin day is not padded."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from rich.console import Console

from ribao.app.services import Services
from ribao.app.write import RunResult, write_day
from ribao.profiles.run import RunProfile
from ribao.runs.db import RunLog
from ribao.runs.render import show_run
from ribao.runs.trace import Tracer
from ribao.settings import MemorySettings
from tests.support.fakes import ScriptedChatModel, default_responder
from tests.support.graph import models, sample_settings
from tests.support.profiles import MemoEmbedder, bundled_day, embedder, is_robotics, robotics_profile


def tied_triage(name: str, schema: dict[str, Any], messages: list[BaseMessage]) -> dict[str, Any]:
    """Every candidate gets the same triage score, as the bundled 135M model gives them."""
    args = default_responder(name, schema, messages)
    if name == "TriageScores":
        return {"scores": [5] * len(args["scores"])} if "scores" in args else dict.fromkeys(args, 5)
    return args


def write(tmp_path: Path, profile: RunProfile | None) -> tuple[RunResult, dict[str, ScriptedChatModel]]:
    settings = sample_settings(tmp_path, memory=MemorySettings(enabled=False))
    agents = models(screener=tied_triage)
    services = Services(settings, dict(agents), profile=profile)
    return asyncio.run(write_day(services, None, tracer=Tracer(quiet=True))), agents


def robotics_ids() -> set[str]:
    return {p.arxiv_id for p in bundled_day() if is_robotics(p)}


def test_the_picks_follow_the_profile_and_say_why(tmp_path: Path) -> None:
    result, agents = write(tmp_path, RunProfile(robotics_profile(), embedder()))
    data = json.loads(result.json_path.read_text())
    picked = [p["arxiv_id"] for p in data["picks"]]
    assert len(picked) == 13 and len(set(picked) & robotics_ids()) >= 6
    assert data["profile"] == "robots" and data["floor"] == 0.3
    assert all(p["relevance"] >= 0.3 for p in data["picks"])
    assert [p["relevance"] for p in data["picks"][:3]] == sorted(
        (p["relevance"] for p in data["picks"][:3]), reverse=True
    )
    assert any(w.startswith("符合你的兴趣：") for w in data["picks"][0]["why"])
    md = result.digest_path.read_text()
    assert "🎯 为你推荐：符合你的兴趣：" in md
    html = result.digest_path.with_suffix(".html").read_text()
    assert "为你推荐" in html
    prompts = [str(m) for r in agents["screener"].requests for m in r["messages"]]
    rank = next(p for p in prompts if "第 1 轮排序" in p)
    assert "本期日报写给读者「robots」" in rank and "robot learning" in rank and "[相关度 " in rank
    reasons = next(p for p in prompts if "推荐理由" in p and "入选" in p)
    assert "本期日报写给读者「robots」" in reasons and "[相关度 " in reasons  # this reader's reasons
    critic = [str(m) for r in agents["critic"].requests for m in r["messages"]]
    assert any("本期写给读者「robots」" in c and "[相关度 " in c for c in critic)
    # The run record keeps each pick's relevance (it was dropped: `runs show` showed none).
    with RunLog.open(tmp_path / "home") as log:
        run = log.get_run(result.run_id)
    assert [p["relevance"] for p in run.picks] == [p["relevance"] for p in data["picks"]]
    console = Console(record=True, width=200)
    show_run(console, run, {})
    shown = console.export_text()
    assert " relevance " in shown and f"{data['picks'][0]['relevance']:.2f}" in shown


def test_without_a_profile_the_picks_are_the_editorial_ones(tmp_path: Path) -> None:
    result, agents = write(tmp_path, None)
    data = json.loads(result.json_path.read_text())
    # Tied triage, no relevance: the first 13 of the listing, 2 of them robotics.
    assert [p["arxiv_id"] for p in data["picks"]] == [p.arxiv_id for p in bundled_day()[:13]]
    assert "profile" not in data and all("why" not in p and "relevance" not in p for p in data["picks"])
    prompts = [str(m) for r in agents["screener"].requests for m in r["messages"]]
    assert not any("写给读者" in p or "相关度" in p for p in prompts)


def test_a_thin_day_is_not_padded_below_the_floor(tmp_path: Path) -> None:
    profile = robotics_profile(floor=0.9)
    result, _ = write(tmp_path, RunProfile(profile, embedder()))
    data = json.loads(result.json_path.read_text())
    assert 0 < data["picked"] < data["wanted"] == 13
    assert all(p["relevance"] >= 0.9 for p in data["picks"])
    assert "与「robots」相关的论文不足" in result.digest_path.read_text()
    assert "不用无关论文凑数" in result.digest_path.read_text()


class LoopProbe:
    """An embedder that notes, per call, whether it ran on the event loop's thread."""

    def __init__(self, inner: MemoEmbedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.on_loop: list[bool] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)
        return self.inner.embed(texts)


def test_the_reader_relevance_is_embedded_off_the_event_loop(tmp_path: Path) -> None:
    # A worker runs several jobs on one loop: a day's embedding (or a wait on the day's vector lock) on
    # it held every other job's requests for as long as it took (2026-02-17's 471 papers: minutes).
    probe = LoopProbe(embedder())
    result, _ = write(tmp_path, RunProfile(robotics_profile(), probe))
    assert result.picks == 13
    assert probe.on_loop and not any(probe.on_loop), probe.on_loop


class GatedEmbedder:
    """The hash embedder, held at its first call until `go` is set (a run embedding a big day)."""

    def __init__(self) -> None:
        from ribao.memory import make_embedder

        self.inner = make_embedder("hash")
        self.name, self.dim = self.inner.name, self.inner.dim
        self.go = threading.Event()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.go.wait()
        return self.inner.embed(texts)


def test_runs_waiting_for_the_day_vectors_leave_the_default_thread_pool_free(tmp_path: Path) -> None:
    # One run of a worker embeds the day under the day's lock; the worker's other runs of that day wait for
    # the lock. Waiting in asyncio's default pool (6 threads here) they held the threads every other job
    # of the worker needs (run-log writes, sync nodes) until the embedding ended.
    from ribao.memory.vectors import DayVectors

    day = dt.date(2026, 2, 18)
    papers = [p.model_copy(update={"announced": day}) for p in bundled_day()[:3]]
    gated = GatedEmbedder()
    runs = [RunProfile(robotics_profile(), gated, DayVectors(tmp_path, gated.name)) for _ in range(8)]

    async def main() -> bool:
        waiting = [asyncio.create_task(run.prepare(papers)) for run in runs]
        await asyncio.sleep(0)  # every run has handed its scoring to a thread
        try:
            free = await asyncio.wait_for(asyncio.to_thread(lambda: True), 30)
        finally:
            gated.go.set()
        await asyncio.gather(*waiting)
        return free

    assert asyncio.run(main())
    assert all(run.relevance(papers) == runs[0].relevance(papers) for run in runs)


class NotingEmbedder:
    """The hash embedder, noting when it is first called (`called`)."""

    def __init__(self) -> None:
        from ribao.memory import make_embedder

        self.inner = make_embedder("hash")
        self.name, self.dim = self.inner.name, self.inner.dim
        self.called = threading.Event()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.called.set()
        return self.inner.embed(texts)


def test_the_reader_relevance_is_embedded_while_triage_runs(tmp_path: Path) -> None:
    # The day's embedding (seconds of CPU for hundreds of papers) began only after the day's triage
    # requests had all come back, so a run paid both one after the other; it now overlaps them.
    probe = NotingEmbedder()
    seen: list[bool] = []

    def triage_waits_for_the_embedding(name: str, schema: dict[str, Any], messages: list[BaseMessage]) -> Any:
        if name == "TriageScores" and not seen:
            seen.append(probe.called.wait(20))
        return tied_triage(name, schema, messages)

    (tmp_path / "before").mkdir()
    before, _ = write(tmp_path / "before", RunProfile(robotics_profile(), NotingEmbedder()))
    settings = sample_settings(tmp_path, memory=MemorySettings(enabled=False))
    services = Services(
        settings,
        dict(models(screener=triage_waits_for_the_embedding)),
        profile=RunProfile(robotics_profile(), probe),
    )
    result = asyncio.run(write_day(services, None, tracer=Tracer(quiet=True)))
    assert seen and all(seen), seen  # triage batches run at once: each that came first waited
    assert picked(result) == picked(before)


def picked(result: RunResult) -> list[Any]:
    """The run's picks in order, with their tiers and reasons, from the digest's JSON."""
    return list(json.loads(result.json_path.read_text(encoding="utf-8"))["picks"])
