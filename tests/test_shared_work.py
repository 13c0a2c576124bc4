"""Paper-level work shared by the runs of one scope (queue jobs of a day, a day run), on SQLite and on
Postgres: runs started at once pay each answer once (single flight), a failing claim owner's work is
taken over, and a resume repays nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ribao.app.jobs import write_or_resume
from ribao.app.write import RunResult
from ribao.runs.shared import SharedWork
from ribao.settings import load_settings
from tests.support.http_run import respond
from tests.support.shared_home import calls_on_record, home_with_profiles, tools
from tests.support.stub_openai import StubOpenAI

DAY = dt.date(2026, 2, 18)
SCOPE = "2026-02-18/batch-1"
#: 180 candidates in batches of 20 (`screener_batch_size`): one run's triage.
TRIAGE_BATCHES = 9
SHARED_TOOLS = {"TriageScores", "ShortlistRanking", "MustReadOutput", "NotableOutput"}


class Overlapping:
    """Answers every request validly, triage ones slowly enough that two runs' batches overlap; fails
    the first `fail` triage requests with HTTP 400 (not retried: the run asking fails)."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] == "TriageScores":
            with self.lock:
                failing, self.fail = self.fail > 0, max(0, self.fail - 1)
            if failing:
                return {"status": 400, "body": {"error": {"message": "stub: this request fails"}}}
            time.sleep(0.2)
        return respond(body)


async def two_jobs(run_ids: dict[str, str]) -> list[RunResult | BaseException]:
    """Run the queue jobs of profiles `run_ids` ({profile: run id}) for DAY at once, in one scope."""
    settings = load_settings()
    return await asyncio.gather(
        *(write_or_resume(settings, DAY, rid, profile, SCOPE) for profile, rid in run_ids.items()),
        return_exceptions=True,
    )


def test_two_jobs_of_a_day_started_at_once_pay_each_answer_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str | None
) -> None:
    with StubOpenAI() as stub:
        home_with_profiles(tmp_path, stub, monkeypatch, store)
        stub.responder = Overlapping()
        run_ids = {"a": "01JOBA0000000000000000000A", "b": "01JOBB0000000000000000000B"}
        results = asyncio.run(two_jobs(run_ids))
        asked = tools(stub)
    assert all(isinstance(r, RunResult) for r in results), results
    # Each request on record once: a shared answer's call with its owner only, never with its reusers.
    assert len(calls_on_record(run_ids.values())) == asked.total()
    assert asked["TriageScores"] == TRIAGE_BATCHES  # not 2 × 9: the later run waited for the first's
    assert asked["ShortlistRanking"] == 1
    assert asked["MustReadOutput"] + asked["NotableOutput"] == 13
    for per_profile in ("PickReasons", "CriticVerdicts", "LeadOutput"):
        assert asked[per_profile] == 2
    for profile in ("a", "b"):
        assert (tmp_path / "digests" / profile / f"{DAY}.md").exists()
    settings = load_settings()
    work = SharedWork.open(settings.home, settings.store.url, SCOPE, lease_s=60)
    try:
        with work.engine.connect() as conn:
            pending = conn.exec_driver_sql("SELECT count(*) FROM shared_work WHERE value IS NULL").scalar()
    finally:
        work.close()
    assert pending == 0  # every claim ended in an answer


def test_a_failing_claim_owner_is_taken_over_and_its_resume_repays_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str | None
) -> None:
    run_ids = {"a": "01JOBA0000000000000000000A", "b": "01JOBB0000000000000000000B"}
    with StubOpenAI() as stub:
        home_with_profiles(tmp_path, stub, monkeypatch, store)
        stub.responder = Overlapping(fail=1)
        results = asyncio.run(two_jobs(run_ids))
        failed = [p for p, r in zip(run_ids, results, strict=True) if not isinstance(r, RunResult)]
        assert len(failed) == 1, results  # the run whose triage request failed; the other finished
        [done] = set(run_ids) - set(failed)
        assert (tmp_path / "digests" / done / f"{DAY}.md").exists()
        first = tools(stub)
        # Each triage batch answered once: the failed batch's claim was released and paid by the other run.
        assert first["TriageScores"] == TRIAGE_BATCHES + 1

        before = len(stub.chat_requests)
        [resumed] = asyncio.run(two_jobs({failed[0]: run_ids[failed[0]]}))
        assert isinstance(resumed, RunResult), resumed
        again = tools(stub, before)
    assert not SHARED_TOOLS & set(again)  # the resume repaid no paper-level answer
    assert again["LeadOutput"] == 1  # only its own reader-level work
    assert (tmp_path / "digests" / failed[0] / f"{DAY}.md").exists()


def test_a_claim_is_taken_over_once_its_lease_ran_out_and_not_before(tmp_path: Path) -> None:
    keys = {"p1": "k1", "p2": "k2"}
    dead = SharedWork.open(tmp_path, None, SCOPE, lease_s=-1)  # its claims have expired already
    live = SharedWork.open(tmp_path, None, SCOPE, lease_s=3600)
    try:
        assert dead.claim("triage", keys, "run-dead") == ({}, ["p1", "p2"])
        assert live.claim("triage", {"p1": "k1"}, "run-live") == ({}, ["p1"])  # taken over
        assert dead.claim("triage", keys, "run-other") == ({}, ["p2"])  # p1's lease is live now
        live.release("triage", {"p1": "k1"}, "run-live")
        dead.put_many("triage", {"k2": "7"})
        assert live.claim("triage", keys, "run-live") == ({"p2": "7"}, ["p1"])  # released: claimable again
        assert live.claim("triage", keys, "run-live") == ({"p2": "7"}, ["p1"])  # a resume keeps its own
    finally:
        dead.close()
        live.close()
