"""Several reader profiles from one day (`ribao run --profile …`): paper-level work paid once, reader-level
work, folders, memory and run records per profile, and the resume of such a day run."""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.memory import MemoryStore
from ribao.memory.embedders import HashEmbedder
from ribao.schemas import FeaturedPaper
from tests.support.http_run import configure_home, respond, run_cli
from tests.support.stub_openai import StubOpenAI

DAY = "2026-02-18"
WRITERS = {"MustReadOutput", "NotableOutput"}
#: 180 candidates in batches of 20 (`screener_batch_size`): one profile's triage.
TRIAGE_BATCHES = 9


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def two_profiles(tmp_path: Path, stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home for the stub provider with profiles `a` and `b` (no interests: the same picks for both)."""
    home = configure_home(tmp_path, stub, monkeypatch)
    with (home / "config.toml").open("a", encoding="utf-8") as f:
        f.write("[profiles.a]\n[profiles.b]\n")
    monkeypatch.chdir(tmp_path)
    return home


def calls_by_tool(stub: StubOpenAI) -> collections.Counter[str]:
    return collections.Counter(r.body["tools"][0]["function"]["name"] for r in stub.chat_requests if r.body)


def picks(folder: Path) -> list[str]:
    data = json.loads((folder / f"{DAY}.json").read_text(encoding="utf-8"))
    return [p["arxiv_id"] for p in data["picks"]]


def memory_ids(home: Path, profile: str) -> set[str]:
    with MemoryStore.open(home / "memory", embedder=HashEmbedder(), profile=profile) as store:
        return {p.arxiv_id for p in store.list(limit=100)}


def test_two_profiles_share_triage_and_summaries_but_not_digest_folder_or_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StubOpenAI() as stub:
        home = two_profiles(tmp_path, stub, monkeypatch)
        res = run_cli("--date", DAY, "--no-push", "--no-fulltext", "--all-profiles", "--quiet", "--json")
        assert res.exit_code == 0, res.output
        calls = calls_by_tool(stub)

    a, b = picks(tmp_path / "digests" / "a"), picks(tmp_path / "digests" / "b")
    assert len(a) == 13 and a == b
    assert calls["TriageScores"] == TRIAGE_BATCHES  # b's triage scores all came from a's run
    assert sum(calls[w] for w in WRITERS) == 13  # b's summaries too: each paper written once
    assert calls["ShortlistRanking"] == 1  # b's rubric scores came from a's run too
    for per_profile in ("PickReasons", "CriticVerdicts", "LeadOutput"):
        assert calls[per_profile] == 2
    assert not (tmp_path / "digests" / f"{DAY}.md").exists()  # no default digest was asked for
    assert memory_ids(home, "a") == memory_ids(home, "b") == set(a)
    assert memory_ids(home, "default") == set()

    runs = [json.loads(line) for line in res.output.splitlines()]
    assert [r["profile"] for r in runs] == ["a", "b"] and len({r["day_run"] for r in runs}) == 1
    listed = json.loads(cli("runs", "list", "--json").output)
    assert sorted((r["profile"], r["day_run"]) for r in listed) == [
        ("a", runs[0]["day_run"]),
        ("b", runs[0]["day_run"]),
    ]
    monkeypatch.setenv("COLUMNS", "200")  # the table's whole rows
    assert f"a of day run {runs[0]['day_run']}" in cli("runs", "list").output
    shown = json.loads(cli("runs", "show", runs[0]["day_run"], "--json").output)
    assert [r["run_id"] for r in shown["runs"]] == [runs[0]["run_id"], runs[1]["run_id"]]


def user_text(request: Any) -> str:
    return str(request.body["messages"][-1]["content"])


def test_rubric_scores_are_asked_once_per_paper_for_readers_with_different_interests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StubOpenAI() as stub:
        home = configure_home(tmp_path, stub, monkeypatch)
        with (home / "config.toml").open("a", encoding="utf-8") as f:
            f.write('[profiles.a]\ninterests = "language model agents"\n')
            f.write('[profiles.b]\ninterests = "image generation with diffusion"\n')
        monkeypatch.chdir(tmp_path)
        res = run_cli("--date", DAY, "--no-push", "--no-fulltext", "--all-profiles", "--quiet")
        assert res.exit_code == 0, res.output
        rankings = [user_text(r) for r in stub.chat_requests if r.body and r.body["tools"][0]["function"]
                    ["name"] == "ShortlistRanking"]  # fmt: skip
        critiques = [user_text(r) for r in stub.chat_requests if r.body and r.body["tools"][0]["function"]
                     ["name"] in ("CriticVerdicts", "PickReasons")]  # fmt: skip

    asked = [re.findall(r"^\[P\d{3}\] (.+) \(", text, flags=re.M) for text in rankings]
    titles = [t for batch in asked for t in batch]
    assert len(titles) == len(set(titles))  # no paper's rubric was paid twice
    assert 26 <= len(titles) < 2 * 26  # a's shortlist of 26, then only what b's adds
    assert not any("写给读者" in text for text in rankings)  # the rubric is general quality
    readers = [("「a」" in t, "「b」" in t) for t in critiques]  # reasons and critique: per reader
    assert readers == [(True, False)] * 2 + [(False, True)] * 2
    assert picks(tmp_path / "digests" / "a") != picks(tmp_path / "digests" / "b")


def test_a_paper_featured_for_a_stays_eligible_for_b(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with StubOpenAI() as stub:
        home = two_profiles(tmp_path, stub, monkeypatch)
        assert run_cli("--date", DAY, "--no-push", "--no-fulltext", "--profile", "b", "-q").exit_code == 0
        first = picks(tmp_path / "digests" / "b")
        # The day before, reader a was shown b's picks of today.
        with MemoryStore.open(home / "memory", embedder=HashEmbedder(), profile="a") as store:
            store.remember(
                dt.date(2026, 2, 17),
                [FeaturedPaper(arxiv_id=i, title=i, abstract=i, date=dt.date(2026, 2, 17), tier="notable",
                               rank=n + 1) for n, i in enumerate(first)],
            )  # fmt: skip
        stub.requests.clear()
        res = run_cli(
            "--date", DAY, "--no-push", "--no-fulltext", "--profile", "a", "--profile", "b", "-q", "--json"
        )
        assert res.exit_code == 0, res.output
        calls = calls_by_tool(stub)

    a_run, b_run = (json.loads(line) for line in res.output.splitlines())
    assert (a_run["scanned"], b_run["scanned"]) == (180 - len(first), 180)
    assert not set(picks(tmp_path / "digests" / "a")) & set(first)
    # b's memory holds them for this very day only, which a re-run of the day replaces.
    assert memory_ids(home, "b") == set(picks(tmp_path / "digests" / "b"))
    # a triaged its 167 candidates; b paid only for the 13 papers a did not see, in one batch.
    assert calls["TriageScores"] == TRIAGE_BATCHES + 1


def test_resume_of_a_day_run_keeps_the_finished_profile_and_pays_no_paper_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StubOpenAI() as stub:
        two_profiles(tmp_path, stub, monkeypatch)
        reasons = 0

        def fail_b_reasons(body: dict[str, Any]) -> dict[str, Any]:
            nonlocal reasons
            if body["tools"][0]["function"]["name"] == "PickReasons":
                reasons += 1
                if reasons == 2:  # profile b's first reasons: a status not worth retrying
                    return {"status": 400}
            return respond(body)

        stub.responder = fail_b_reasons
        res = run_cli("--date", DAY, "--no-push", "--no-fulltext", "--all-profiles", "-q")
        assert res.exit_code != 0
        assert (tmp_path / "digests" / "a" / f"{DAY}.md").exists()
        assert not (tmp_path / "digests" / "b").exists()
        before = json.loads(cli("runs", "list", "--json").output)
        assert sorted((r["profile"], r["status"]) for r in before) == [("a", "done"), ("b", "failed")]
        day_run = before[0]["day_run"]
        assert res.stderr.strip().endswith(f"(continue with: ribao runs resume {day_run})"), res.stderr

        stub.requests.clear()
        stub.responder = respond
        res = cli("runs", "resume", day_run, "-q")
        assert res.exit_code == 0, res.output
        calls = calls_by_tool(stub)

    assert picks(tmp_path / "digests" / "b") == picks(tmp_path / "digests" / "a")
    assert calls["TriageScores"] == 0 and not WRITERS & set(calls)  # checkpointed or shared
    assert calls["ShortlistRanking"] == 0  # b's ranking is checkpointed, its rubric was a's
    assert calls["PickReasons"] == 1  # only b's run continued; a's was not run again
    after = json.loads(cli("runs", "list", "--json").output)
    assert sorted((r["run_id"], r["status"]) for r in after) == sorted((r["run_id"], "done") for r in before)


def test_resume_of_one_profiles_run_writes_for_that_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StubOpenAI() as stub:
        home = two_profiles(tmp_path, stub, monkeypatch)

        def fail_ranking(body: dict[str, Any]) -> dict[str, Any]:
            if body["tools"][0]["function"]["name"] == "ShortlistRanking":
                return {"status": 400}
            return respond(body)

        stub.responder = fail_ranking
        res = run_cli("--date", DAY, "--no-push", "--no-fulltext", "--profile", "a", "-q")
        assert res.exit_code != 0
        stub.responder = respond
        res = cli("runs", "resume", "latest", "-q")
        assert res.exit_code == 0, res.output

    assert (tmp_path / "digests" / "a" / f"{DAY}.md").exists()  # the reader's folder, not the default one
    assert memory_ids(home, "a") == set(picks(tmp_path / "digests" / "a"))
    assert memory_ids(home, "default") == set()
    runs = json.loads(cli("runs", "list", "--json").output)
    assert [(r["profile"], r["status"]) for r in runs] == [("a", "done")]


def test_a_single_profile_run_names_its_reader_in_runs_list_and_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run for one profile (`--profile a`, or the demo's `example`) says whose it is, as a day run does."""
    with StubOpenAI() as stub:
        two_profiles(tmp_path, stub, monkeypatch)
        res = run_cli("--date", DAY, "--no-push", "--no-fulltext", "--profile", "a", "--quiet")
        assert res.exit_code == 0, res.output
    monkeypatch.setenv("COLUMNS", "200")  # the table's whole rows
    listed = cli("runs", "list").output.splitlines()
    assert listed[0].split()[-1] == "profile" and listed[1].split()[-1] == "a"
    assert "  profile a\n" in cli("runs", "show", "latest").output
