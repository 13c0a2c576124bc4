"""The whole graph on the real 2026-02-18 listing with scripted agents, a real Chroma store and files."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from ribao.app.services import Services
from ribao.app.write import write_day
from ribao.errors import LLMOutputError
from ribao.graph.routing import route_after_critique
from ribao.memory import HashEmbedder, MemoryStore
from ribao.runs.db import RunLog
from ribao.runs.trace import Tracer
from ribao.schemas import CriticDecision, Critique
from ribao.settings import Settings
from ribao.sources import read_listing
from ribao.sources.options import ListingOptions
from tests.support.fakes import default_responder, valid_args
from tests.support.graph import (
    DAY,
    FIRST40,
    RETRY_MARK,
    models,
    run,
    sample_settings,
)
from tests.support.samples import sample_listing


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sample_settings(tmp_path)


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    """Settings of a run on the 40-paper listing (two triage batches instead of nine)."""
    return sample_settings(tmp_path, source=str(FIRST40))


@pytest.fixture
def memory(tmp_path: Path) -> MemoryStore:
    return MemoryStore.open(tmp_path / "memory", embedder=HashEmbedder())


def test_happy_path_writes_a_complete_digest(settings: Settings, memory: MemoryStore) -> None:
    agents = models()
    result = run(settings, memory, agents)

    md = result.digest_path.read_text(encoding="utf-8")
    data = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert result.digest_path == settings.out_dir / f"{DAY}.md"
    assert "📅 **2026-02-18 周三** | 🤖 扫描/精选: **180/13**" in md
    assert [int(n) for n in re.findall(r"^### (\d+)\. ", md, flags=re.M)] == [1, 2, 3]
    assert [int(n) for n in re.findall(r"^\| (\d+) \| ", md, flags=re.M)] == list(range(4, 14))
    assert data["date"] == DAY and data["scanned"] == 180 and data["run_id"] == result.run_id
    assert [p["rank"] for p in data["picks"]] == list(range(1, 14))
    assert [p["tier"] for p in data["picks"]] == ["must_read"] * 3 + ["notable"] * 10
    must = data["picks"][0]
    assert set(must["summary"]) == {"title_zh", "background", "innovation", "details", "results"}
    assert set(data["picks"][5]["summary"]) == {"one_line"}
    assert all(p["critic"] and p["critic"][0]["decision"] == "keep" for p in data["picks"])
    usage = data["usage"]
    n_calls = len(agents["screener"].requests) + len(agents["critic"].requests)
    n_calls += len(agents["writer"].requests) + len(agents["editor"].requests)
    assert usage["input_tokens"] == 100 * n_calls and usage["output_tokens"] == 20 * n_calls
    assert f"Tokens: **{120 * n_calls:,}**" in md

    # The screener saw every candidate exactly once in triage (9 batches of 20), then one ranking.
    triage = agents["screener"].calls_for("TriageScores")
    assert len(triage) == 9
    for r in triage:  # batch-local keys P01..P20
        assert re.findall(r"^\[(P\d{2})\]", r["messages"][1], flags=re.M) == [
            f"P{i:02d}" for i in range(1, 21)
        ]
    titles = [
        p.title
        for p in read_listing(
            ListingOptions(str(sample_listing()), categories=settings.categories), None
        ).papers
    ]
    assert all(sum(f"] {t} (" in r["messages"][1] for r in triage) == 1 for t in titles)
    # Triage favoured keys that are multiples of 7; the picks come from those.
    assert len(agents["writer"].requests) == 13
    # Every link in the page points at a paper of the day.
    day_ids = {json.loads(line)["id"] for line in sample_listing().read_text(encoding="utf-8").splitlines()}
    linked = re.findall(r"https://arxiv\.org/abs/([0-9.]+?)(?:v\d+)?\)", md)
    assert len(linked) == 13 and set(linked) <= day_ids
    assert memory.stats().count == 13


def test_memory_excludes_papers_featured_on_an_earlier_day(settings: Settings, memory: MemoryStore) -> None:
    first = json.loads(run(settings, memory, models()).json_path.read_text(encoding="utf-8"))
    featured = {p["arxiv_id"] for p in first["picks"]}

    # A later day whose listing repeats the 13 featured papers plus new ones.
    later = settings.out_dir.parent / "later.jsonl"
    lines = sample_listing().read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    for row in rows:
        row["announced"] = "2026-02-19"
    later.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    second_settings = settings.model_copy(update={"source": str(later)})
    second = run(second_settings, memory, models())
    data = json.loads(second.json_path.read_text(encoding="utf-8"))
    assert data["scanned"] == 180 - 13
    assert not featured & {p["arxiv_id"] for p in data["picks"]}

    # Re-running the first date replaces that date instead of excluding its own picks.
    again = json.loads(run(settings, memory, models()).json_path.read_text(encoding="utf-8"))
    assert again["scanned"] == 180


def test_critic_sends_back_once(small: Settings, memory: MemoryStore) -> None:
    rounds: list[int] = []

    def critic(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        args = default_responder(name, schema, messages)
        rounds.append(1)
        if len(rounds) == 1:  # first round: replace the first pick with the first alternate
            first = next(iter(args))
            alternates = schema["properties"][first]["properties"]["replacement"]["enum"]
            args[first] = {"decision": "replace", "reason": "价值不如候选", "replacement": alternates[0]}
        return args

    result = run(small, memory, models(critic=critic))
    data = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert [c["verdict"] for c in data["critiques"]] == ["revise", "accept"]
    replaced = data["critiques"][0]["decisions"][0]
    assert replaced["decision"] == "replace"
    assert replaced["arxiv_id"] not in {p["arxiv_id"] for p in data["picks"]}
    assert replaced["replacement"] in {p["arxiv_id"] for p in data["picks"]}
    # The replaced pick carries its round-1 verdict in the JSON.
    assert len(data["picks"]) == 13


def test_round_two_does_not_offer_the_papers_replaced_in_round_one(
    small: Settings, memory: MemoryStore
) -> None:
    replaced: list[str] = []

    def critic(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        args = default_responder(name, schema, messages)
        if not replaced:  # round 1: replace the first two picks with the first two alternates
            alternates = schema["properties"][next(iter(args))]["properties"]["replacement"]["enum"]
            for key, alternate in zip(list(args)[:2], alternates, strict=False):
                args[key] = {"decision": "replace", "reason": "价值不如候选", "replacement": alternate}
                replaced.append(key)
        return args

    agents = models(critic=critic)
    run(small, memory, agents)
    first, second = agents["critic"].calls_for("CriticVerdicts")
    assert "第 2 轮复核" in second["messages"][1]
    offered = second["messages"][1].split("落选但进入短名单的候选")[1]
    assert all(f"[{key}]" in first["messages"][1] for key in replaced)
    assert not [key for key in replaced if f"[{key}]" in offered]
    pick = next(iter(second["schema"]["properties"].values()))
    assert not set(pick["properties"]["replacement"]["enum"]) & set(replaced)


def test_critic_loop_stops_at_the_cap(small: Settings, memory: MemoryStore) -> None:
    def critic(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        args = default_responder(name, schema, messages)
        first = next(iter(args))
        args[first] = {"decision": "replace", "reason": "不够好", "replacement": "none"}
        return args

    agents = models(critic=critic)
    result = run(small.model_copy(update={"max_critic_rounds": 3}), memory, agents)
    data = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert [c["round"] for c in data["critiques"]] == [1, 2, 3]
    assert data["critiques"][-1]["capped"] is True
    assert len(agents["screener"].calls_for("ShortlistRanking")) == 3
    assert len(data["picks"]) == 13


def test_schema_breaking_reply_is_retried_then_accepted(small: Settings, memory: MemoryStore) -> None:
    broken: list[str] = []
    lock = threading.Lock()  # writers run in parallel: break exactly one reply

    def writer(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any] | AIMessage:
        with lock:
            if name == "NotableOutput" and not broken:
                broken.append(messages[-1].content)
                return AIMessage(content="I cannot produce JSON today")  # no tool call at all
        return valid_args(schema)

    agents = models(writer=writer)
    result = run(small, memory, agents)
    assert result.picks == 13
    retried = [r for r in agents["writer"].requests if RETRY_MARK in r["messages"][-1]]
    assert len(retried) == 1


def test_unsupported_numbers_are_sent_back(small: Settings, memory: MemoryStore) -> None:
    def writer(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        if name == "NotableOutput" and RETRY_MARK not in messages[-1].content:
            return {"one_line": "准确率提升了 98.7%"}  # a number no abstract of the day contains
        return valid_args(schema)

    agents = models(writer=writer)
    run(small, memory, agents)
    retried = [r for r in agents["writer"].requests if RETRY_MARK in r["messages"][-1]]
    assert len(retried) == 10 and "98.7%" in retried[0]["messages"][-1]


def test_reply_that_keeps_breaking_fails_the_run_and_writes_nothing(
    small: Settings, memory: MemoryStore
) -> None:
    def writer(name: str, schema: dict[str, Any], messages: list[Any]) -> AIMessage:
        return AIMessage(content="no tool call")

    with pytest.raises(LLMOutputError, match="writer .* 3 times"):
        run(small, memory, models(writer=writer))
    assert not small.out_dir.exists() or not any(small.out_dir.iterdir())
    assert memory.stats().count == 0


def test_route_after_critique_is_pure() -> None:
    keep = Critique(
        round=1, verdict="accept", decisions=[CriticDecision(arxiv_id="1", decision="keep", reason="ok")]
    )
    revise = Critique(
        round=1, verdict="revise", decisions=[CriticDecision(arxiv_id="1", decision="replace", reason="no")]
    )
    base: dict[str, Any] = {"candidates": [], "picks": [], "max_critic_rounds": 2}
    assert route_after_critique({**base, "critiques": [revise], "critic_rounds": 1}) == "flag_near_duplicates"  # type: ignore[typeddict-item]
    assert route_after_critique({**base, "critiques": [revise], "critic_rounds": 2}) == "fetch_fulltext"  # type: ignore[typeddict-item]
    assert route_after_critique({**base, "critiques": [keep], "critic_rounds": 1}) == "fetch_fulltext"  # type: ignore[typeddict-item]


def test_editor_lead_is_held_to_the_number_guard(small: Settings, memory: MemoryStore) -> None:
    def editor(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        if RETRY_MARK not in messages[-1].content:
            return {"lead": "今天的论文将在 2031 年改变一切"}
        return {"lead": "今天的论文聚焦智能体与对齐"}

    agents = models(editor=editor)
    result = run(small, memory, agents)
    md = result.digest_path.read_text(encoding="utf-8")
    assert "> 💡 今天的论文聚焦智能体与对齐" in md and "2031" not in md
    assert len(agents["editor"].requests) == 2


def test_unreachable_github_keeps_the_links_without_stars(settings: Settings, memory: MemoryStore) -> None:
    from ribao.settings import GithubSettings

    # The sample day with a code link in every paper's comment, so every pick has one.
    listing = Path(settings.out_dir).parent / "with-code.jsonl"
    rows = [json.loads(line) for line in sample_listing().read_text(encoding="utf-8").splitlines() if line]
    for i, row in enumerate(rows):
        row["comment"] = f"Code: https://github.com/ribao-test/repo{i}"
    listing.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    offline = settings.model_copy(
        update={
            "source": str(listing),
            "github": GithubSettings(stars=True, api_url="http://127.0.0.1:9", timeout_seconds=1),
        }
    )
    result = run(offline, memory, models())
    md = result.digest_path.read_text(encoding="utf-8")
    links = [p["code_url"] for p in json.loads(result.json_path.read_text(encoding="utf-8"))["picks"]]
    links = [u for u in links if u]
    assert links, "the sample day's picks should include code links"
    assert all(f"]({u})" in md for u in links)  # every code link is still on the page
    assert "⭐" not in md


def test_dispatch_writers_sends_one_task_per_pick_with_its_paper() -> None:
    from ribao.graph.routing import dispatch_writers
    from tests.support.papers import paper, pick

    a, b, c = paper(1), paper(2), paper(3)
    sends = dispatch_writers({"candidates": [a, b, c], "picks": [pick(c, 1), pick(a, 2)]})  # type: ignore[typeddict-item]
    assert [s.node for s in sends] == ["write_summary", "write_summary"]
    assert [(s.arg["pick"].arxiv_id, s.arg["paper"].arxiv_id) for s in sends] == [
        (c.arxiv_id, c.arxiv_id),
        (a.arxiv_id, a.arxiv_id),
    ]


def test_near_duplicates_are_checked_only_among_the_candidates_shown(
    settings: Settings, tmp_path: Path
) -> None:
    import datetime as dt

    from tests.support.memory import featured, near_copy

    class Counting(HashEmbedder):
        texts = 0

        def embed(self, texts: Any) -> list[list[float]]:
            Counting.texts += len(texts)
            return super().embed(texts)

    memory = MemoryStore.open(tmp_path / "counted", embedder=Counting(), vectors_dir=tmp_path / "vectors")
    papers = read_listing(ListingOptions(str(sample_listing()), categories=settings.categories), None).papers
    # Triage (default_responder) scores P07 of batch 1 high; the listing's last paper (P20 of the
    # last batch) scores low and comes last in listing order, so it is never shown to the screener.
    shown, unseen = near_copy(papers[6], "2602.90001"), near_copy(papers[-1], "2602.90002")
    past = dt.date(2026, 2, 17)
    memory.remember(past, featured([shown, unseen], past))
    before = Counting.texts

    agents = models()
    run(settings, memory, agents)

    [rank] = agents["screener"].calls_for("ShortlistRanking")
    assert f"相似于 {shown.title}（2026-02-17）" in rank["messages"][1]
    assert unseen.title not in rank["messages"][1]
    critic = agents["critic"].calls_for("CriticVerdicts")[0]["messages"][1]
    assert f"相似于 {shown.title}" in critic  # the flagged paper is a pick or an alternate
    assert not any("相似于" in r["messages"][1] for r in agents["screener"].calls_for("TriageScores"))
    # Only the shortlist (26) and the critic's alternates beyond it (15) were embedded, not all 180;
    # remembering the 13 picks reuses their vectors from the day's cache.
    assert Counting.texts - before <= 26 + 15


def test_a_local_screener_writes_digit_free_reasons(small: Settings, memory: MemoryStore) -> None:
    from ribao.llm.config import ModelConfig

    # The demo once printed "grant No. 14DRL386791" as a 推荐理由: the reasons call is grammar-
    # constrained like the writer's fields when the screener runs on the local model.
    agents = models()
    configs = {a: ModelConfig(model=f"fake-{a}", local=a == "screener") for a in agents}
    asyncio.run(
        write_day(Services(small, agents, configs=configs, memory=memory), None, tracer=Tracer(quiet=True))
    )
    [reasons] = agents["screener"].calls_for("PickReasons")
    patterns = {p.get("pattern") for p in reasons["schema"]["properties"].values()}
    assert patterns == {r'^[^0-9０-９"\\]{2,100}$'}  # one sentence: LOCAL_REASON_CHARS
    [rank] = agents["screener"].calls_for("ShortlistRanking")
    assert "0-9" not in json.dumps(rank["schema"])  # scores are enums, not text


def _by_key_number(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
    """Score by the candidate's key number, whichever form the schema asks for: keyed, or (for a
    grammar-constrained model) lists in the order the prompt lists the candidates."""
    listed = [int(k) for k in re.findall(r"\[P(\d+)\]", str(messages[-1].content))]
    if name == "TriageScores":
        keyed = {n: 9 if n % 7 == 0 else 2 + n % 5 for n in listed}
        if "scores" in schema["properties"]:
            return {"scores": [keyed[n] for n in listed]}
        return {k: keyed[int(k[1:])] for k in schema["properties"]}
    if name == "ShortlistRanking":
        triple = {n: [1 + n % 5, 1 + n % 3, 1 + n % 4] for n in listed}
        if "rubric" in schema["properties"]:
            return {"rubric": [triple[n] for n in listed]}
        names = ("novelty", "impact", "rigor")
        return {k: dict(zip(names, triple[int(k[1:])], strict=True)) for k in schema["properties"]}
    return default_responder(name, schema, messages)


def test_a_local_screener_answers_compact_lists_and_picks_what_the_keyed_form_picks(
    tmp_path: Path,
) -> None:
    from ribao.llm.config import ModelConfig

    picks = {}
    for local in (False, True):
        agents = models(screener=_by_key_number)
        configs = {a: ModelConfig(model=f"fake-{a}", local=local and a == "screener") for a in agents}
        result = asyncio.run(
            write_day(
                Services(sample_settings(tmp_path / str(local)), agents, configs=configs), None,
                tracer=Tracer(quiet=True),
            )
        )  # fmt: skip
        triage = agents["screener"].calls_for("TriageScores")
        [rank] = agents["screener"].calls_for("ShortlistRanking")
        if local:  # one list of 1..10 per batch, one [novelty, impact, rigor] per shortlisted key
            assert all(list(t["schema"]["properties"]) == ["scores"] for t in triage)
            sizes = {t["schema"]["properties"]["scores"]["minItems"] for t in triage}
            assert sizes == {20} and triage[0]["schema"]["properties"]["scores"]["maxItems"] == 20
            rubric = rank["schema"]["properties"]["rubric"]
            shortlisted = re.findall(r"\[P\d+\]", rank["messages"][1])
            assert rubric["minItems"] == rubric["maxItems"] == len(shortlisted)
        else:
            assert "scores" not in triage[0]["schema"]["properties"]
            assert "rubric" not in rank["schema"]["properties"]
        data = json.loads(result.json_path.read_text(encoding="utf-8"))
        picks[local] = [(p["arxiv_id"], p["tier"]) for p in data["picks"]]
    assert picks[True] == picks[False] and len(picks[True]) == 13


def test_a_slow_run_log_never_holds_the_event_loop(
    small: Settings, memory: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection takes the run log's write lock again and again while the run goes on, and
    each time keeps it until one of the run's writes has met it: the recorder waits for it in a worker
    thread, so the run loop (streaming, tracing, recording) never holds the event loop. Checked by a
    `LoopProbe` while that write waits, not by wall time or by how long the run lasts (a fast run met
    the lock only twice in a CI run; a busy machine's GIL waits passed a wall-time threshold)."""
    import sqlite3

    from tests.support.loop_watch import LoopProbe

    small.home.mkdir(parents=True)
    RunLog.open(small.home).close()
    probe = LoopProbe()
    stop, holding, met = threading.Event(), threading.Event(), threading.Event()
    met_lock: list[int] = []  # one entry per hold a run-log write met
    writing = RunLog._writing

    def spied_writing(self: RunLog, run_id: str) -> Any:
        if holding.is_set():  # this write will wait for the hog's commit
            met.set()
        return writing(self, run_id)

    monkeypatch.setattr(RunLog, "_writing", spied_writing)

    def hog() -> None:
        conn = sqlite3.connect(small.home / "runs.sqlite", isolation_level=None)
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            holding.set()
            # Kept until a write of the run meets it; the 2 s is liveness only (a write that started
            # just before `holding` was set waits here unseen), well under the busy timeout.
            if met.wait(2.0):
                probe.check("the run log's write lock")
                met_lock.append(1)
            holding.clear()
            met.clear()
            conn.execute("COMMIT")
            stop.wait(0.05)  # let the run go on between holds
        conn.close()

    thread = threading.Thread(target=hog)
    run = write_day(Services(small, models(), memory=memory), None, tracer=Tracer(quiet=True))

    async def watched() -> Any:
        thread.start()  # once the probe knows the loop: every hold of the lock is checked
        return await run

    try:
        result = asyncio.run(probe.watch(watched()))
    finally:
        stop.set()
        if thread.ident is not None:
            thread.join()
    assert result.digest_path.is_file()
    assert len(met_lock) >= 3 and probe.checked == len(met_lock)
    assert probe.held == []
