"""`ribao store migrate` copies the shared answers: a scope's run resumed on Postgres after the move
reuses what the scope's runs paid for at home instead of paying again."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.app.jobs import write_or_resume
from ribao.app.write import RunResult
from ribao.cli import app
from ribao.runs.shared import SharedWork
from ribao.settings import load_settings
from tests.support.shared_home import home_with_profiles, tools
from tests.support.stub_openai import StubOpenAI

DAY = dt.date(2026, 2, 18)
SCOPE = "2026-02-18/batch-1"
SHARED_TOOLS = {"TriageScores", "ShortlistRanking", "MustReadOutput", "NotableOutput"}


def test_store_migrate_copies_shared_answers_so_a_scope_resumed_on_postgres_repays_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    with StubOpenAI() as stub:
        home_with_profiles(tmp_path, stub, monkeypatch, None)
        settings = load_settings()
        done = asyncio.run(write_or_resume(settings, DAY, "01JOBA0000000000000000000A", "a", SCOPE))
        assert isinstance(done, RunResult)
        work = SharedWork.open(settings.home, None, SCOPE, lease_s=3600)
        try:  # a claim of a process on the home's database: no answer, and its lease means nothing there
            work.claim("triage", {"x": "pending-key"}, "01RUNELSEWHERE000000000000")
            with work.engine.connect() as conn:
                answered = conn.exec_driver_sql("SELECT count(*) FROM shared_work WHERE value IS NOT NULL")
                count = answered.scalar()
        finally:
            work.close()

        moved = CliRunner().invoke(app, ["store", "migrate", "--to", postgres_url], catch_exceptions=False)
        assert moved.exit_code == 0, moved.output
        assert f"shared_work {count}/{count}" in moved.output

        before = len(stub.chat_requests)
        monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
        later = asyncio.run(write_or_resume(load_settings(), DAY, "01JOBB0000000000000000000B", "b", SCOPE))
        assert isinstance(later, RunResult)
        again = tools(stub, before)
    assert not SHARED_TOOLS & set(again), again  # profile b reused profile a's answers after the move
    assert again["LeadOutput"] == 1  # and paid its own reader-level work
