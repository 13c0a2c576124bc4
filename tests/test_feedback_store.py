"""Feedback in the run log's database: one schema and migration, first uses at once on a fresh Postgres,
`ribao store migrate` copies it, an older home's `feedback.sqlite` is moved in once."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.profiles.feedback import FeedbackStore
from ribao.runs import HEAD


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _give(home: str, url: str, k: int, barrier: Any) -> None:
    barrier.wait()  # all four open the fresh database at the same moment
    with FeedbackStore.open(Path(home), url) as store:
        for i in range(5):
            store.add("default", "like", [f"2602.{k}{i:04d}"])


def test_four_first_uses_at_once_on_a_fresh_postgres_lose_nothing(
    ribao_home: Path, postgres_url: str
) -> None:
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://")  # the form older ribao took too
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        barrier = manager.Barrier(4)
        pool.starmap(_give, [(str(ribao_home), url, k, barrier) for k in range(4)])
    with FeedbackStore.open(ribao_home, url) as store:
        ids = [e.arxiv_id for e in store.entries()]
    assert len(ids) == 20 and len(set(ids)) == 20
    with psycopg.connect(postgres_url) as conn:  # created by the migration, which is recorded once
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]


def test_store_migrate_copies_the_feedback_once_and_the_postgres_store_lists_it(
    ribao_home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ribao_home / "config.toml").write_text('[profiles.alice]\ninterests = "LLM agents"\n', encoding="utf-8")
    assert cli("feedback", "like", "2602.15067", "2602.15100").exit_code == 0
    assert cli("feedback", "not-interested", "2602.15200", "-p", "alice").exit_code == 0
    assert cli("feedback", "dislike", "2602.15100").exit_code == 0
    before = json.loads(cli("feedback", "list", "--json").output)

    moved = cli("store", "migrate", "--to", postgres_url)
    assert moved.exit_code == 0, moved.output
    assert "feedback 4/4" in moved.output and "(source/target, all equal)" in moved.output
    again = cli("store", "migrate", "--to", postgres_url)  # a second run adds nothing
    assert again.exit_code == 0 and "feedback 4/4" in again.output, again.output

    monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
    after = json.loads(cli("feedback", "list", "--json").output)
    drop = ("id",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in after] == [
        {k: v for k, v in r.items() if k not in drop} for r in before
    ]
    with FeedbackStore.open(ribao_home, postgres_url) as store:
        assert [p.arxiv_id for p in store.signals("default").disliked] == ["2602.15100"]  # newest still wins


# The table as ribao before revision 0002 created it in <home>/feedback.sqlite (SQLAlchemy's DDL).
_OLD_DDL = """
CREATE TABLE feedback (id INTEGER NOT NULL, profile VARCHAR(64) NOT NULL, verb VARCHAR(16) NOT NULL,
  arxiv_id VARCHAR(64) NOT NULL, title TEXT, abstract TEXT, at VARCHAR(32) NOT NULL,
  origin VARCHAR(16) NOT NULL, PRIMARY KEY (id));
CREATE INDEX feedback_profile ON feedback (profile, id);
"""
_OLD_ROWS = [
    ("default", "like", "2602.15067", "A liked paper", None, "2026-11-02T08:00:00+00:00", "cli"),
    ("default", "dislike", "2602.15100", None, None, "2026-11-03T08:00:00+00:00", "cli"),
    ("default", "like", "2602.15100", None, None, "2026-11-04T08:00:00+00:00", "cli"),
]


def _old_home(home: Path) -> None:
    conn = sqlite3.connect(home / "feedback.sqlite")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_OLD_DDL)
    conn.executemany(
        "INSERT INTO feedback (profile, verb, arxiv_id, title, abstract, at, origin) VALUES (?,?,?,?,?,?,?)",
        _OLD_ROWS,
    )
    conn.commit()
    conn.close()


def test_an_old_homes_feedback_file_is_moved_into_the_run_log_once(ribao_home: Path) -> None:
    _old_home(ribao_home)
    upgraded = subprocess.run(
        [sys.executable, "-m", "ribao", "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stderr.splitlines() == [
        f"ribao: note: moved 3 feedback event(s) from {ribao_home / 'feedback.sqlite'} into the run log "
        f"{ribao_home / 'runs.sqlite'}; the old file is kept as feedback.sqlite.imported"
    ]
    assert (
        not (ribao_home / "feedback.sqlite").exists() and (ribao_home / "feedback.sqlite.imported").exists()
    )

    rows = json.loads(cli("feedback", "list", "--json").output)
    assert [(r["verb"], r["arxiv_id"], r["at"][:10]) for r in rows] == [
        ("like", "2602.15067", "2026-11-02"), ("dislike", "2602.15100", "2026-11-03"),
        ("like", "2602.15100", "2026-11-04"),
    ]  # fmt: skip
    assert json.loads(cli("feedback", "list", "--json").output) == rows  # read again: not imported twice
    assert "nothing" not in cli("feedback", "undo").output  # the old events are the reader's to undo
    with FeedbackStore.open(ribao_home) as store:
        assert [p.arxiv_id for p in store.signals("default").liked] == ["2602.15067"]
        assert [p.arxiv_id for p in store.signals("default").disliked] == ["2602.15100"]


def _open(home: str, barrier: Any) -> int:
    barrier.wait()
    with FeedbackStore.open(Path(home)) as store:
        return len(store.entries())


def test_four_processes_opening_an_old_home_at_once_import_its_file_once(ribao_home: Path) -> None:
    _old_home(ribao_home)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        barrier = manager.Barrier(4)
        seen = pool.starmap(_open, [(str(ribao_home), barrier)] * 4)
    assert seen == [3, 3, 3, 3]


def test_a_postgres_store_keeps_the_feedback_table_an_older_ribao_made(
    ribao_home: Path, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url) as conn:  # what FeedbackStore created before revision 0002
        conn.execute(_OLD_DDL.replace("id INTEGER NOT NULL", "id SERIAL NOT NULL"))
        conn.execute(
            "INSERT INTO feedback (profile, verb, arxiv_id, title, abstract, at, origin) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            _OLD_ROWS[0],
        )
    with FeedbackStore.open(ribao_home, postgres_url) as store:
        assert [e.arxiv_id for e in store.entries()] == ["2602.15067"]
        store.add("default", "like", ["2602.15300"])
        assert [e.arxiv_id for e in store.entries()] == ["2602.15067", "2602.15300"]
