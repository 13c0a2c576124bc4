"""A worker killed with kill -9 while paying for a shared triage batch: the claim's lease runs out, the
day's other job takes the batch over, and both digests are written with each batch answered once.
Marked slow: real worker processes on Postgres, about 30 s."""

from __future__ import annotations

import collections
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_run import respond
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import jobs, ribao_ok, ribao_proc, worker_home

pytestmark = pytest.mark.slow
TRIAGE_BATCHES = 9


class HangFirstTriage:
    """Answers validly, except that the first triage request is never answered (its worker is killed)."""

    def __init__(self) -> None:
        self.hung = threading.Event()
        self.answered: collections.Counter[str] = collections.Counter()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = body["tools"][0]["function"]["name"]
        if tool == "TriageScores" and not self.hung.is_set():
            self.hung.set()
            return {"hang": 120}
        self.answered[tool] += 1
        return respond(body)


def test_a_killed_claim_owner_is_taken_over_and_the_day_finishes(tmp_path: Path, postgres_url: str) -> None:
    with StubOpenAI() as stub:
        answers = HangFirstTriage()
        stub.responder = answers
        extra = "claim_lease_seconds = 2\n[profiles.a]\n[profiles.b]\n"
        env = worker_home(tmp_path / "home", stub, postgres_url, extra)
        out = tmp_path / "digests"
        env["RIBAO_OUT_DIR"] = str(out)
        ribao_ok("db", "upgrade", env=env, cwd=tmp_path)
        ribao_ok(
            "enqueue", "run", "--date", "2026-02-18", "--source", str(sample_listing()),
            "--profile", "a", "--profile", "b", env=env, cwd=tmp_path,
        )  # fmt: skip
        first = ribao_proc("worker", env=env, cwd=tmp_path)
        assert answers.hung.wait(300), "no triage request within 300 s"
        deadline = time.monotonic() + 60
        while answers.answered["TriageScores"] < TRIAGE_BATCHES - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let the worker store the answered batches
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

        ribao_ok("worker", "--until-empty", env=env, cwd=tmp_path)
    assert [j["status"] for j in jobs(postgres_url)] == ["succeeded", "succeeded"]
    for profile in ("a", "b"):
        assert (out / profile / "2026-02-18.md").exists()
    assert answers.answered["TriageScores"] == TRIAGE_BATCHES  # the hung batch was paid once, by the taker
    assert answers.answered["ShortlistRanking"] == 1
