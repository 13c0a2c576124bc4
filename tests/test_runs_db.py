"""The run log: migrations, recording and reading back, id prefixes, per-agent totals, two writers."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ribao.calls import LLMCall
from ribao.runs import HEAD, RunLog, RunLogError, RunNotFound
from ribao.runs.engine import sqlite_engine
from ribao.runs.migrations import revision, revisions, upgrade
from tests.support.runs import (
    CRITIQUES,
    DATA,
    DAY,
    FIRST_MIGRATION,
    PICKS,
    PROMPTS,
    REPLACE_REASON,
    RUN_A,
    RUN_B,
    RUN_C,
    STEPS_A,
    call,
    populate,
    price,
)
from tests.support.sqlite_hold import held_new_file


def priced(c: LLMCall, cost: float | None) -> LLMCall:
    """`c` as priced when it was made: `cost` CNY (None = its price is unknown)."""
    return c.model_copy(update={"cost": cost, "currency": "CNY" if cost is not None else None})


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest) -> str | None:
    """The run log's database: None for `<home>/runs.sqlite`, else a fresh Postgres database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def home(tmp_path: Path, url: str | None) -> Path:
    populate(tmp_path / "home", url)
    return tmp_path / "home"


@pytest.fixture
def log(home: Path, url: str | None) -> Iterator[RunLog]:
    with RunLog.open(home, url=url) as opened:
        yield opened


def test_a_new_log_is_at_the_newest_revision_and_reopening_applies_nothing(tmp_path: Path) -> None:
    with RunLog.open(tmp_path) as log:
        with log.engine.connect() as conn:
            assert revision(conn) == HEAD
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert upgrade(log.engine) == []
    assert revisions()[-1] == HEAD  # HEAD names the newest revision file


def test_a_run_log_written_by_the_hand_kept_migrations_upgrades_losing_nothing(tmp_path: Path) -> None:
    # tests/data/runs-legacy.sqlite: `populate` plus one delivery, written by ribao before Alembic.
    shutil.copy(DATA / "runs-legacy.sqlite", tmp_path / "runs.sqlite")
    before = _counts(tmp_path / "runs.sqlite")
    with RunLog.open(tmp_path) as log:
        run = log.get_run(RUN_A)
        assert run.picks == PICKS and run.critiques == CRITIQUES and run.prompts == PROMPTS
        assert len(log.calls(RUN_A)) == sum(len(cs) for _, _, cs in STEPS_A)
        assert [d["channel"] for d in log.deliveries(RUN_A)] == ["team"]
        log.start_run("01NEW", settings={}, categories=[])  # and it takes new runs
    assert _counts(tmp_path / "runs.sqlite") == {**before, "runs": before["runs"] + 1}
    with sqlite3.connect(tmp_path / "runs.sqlite") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)


def test_a_log_made_by_the_first_migration_alone_is_upgraded(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "runs.sqlite", isolation_level=None)
    conn.executescript(FIRST_MIGRATION)
    conn.execute(
        "INSERT INTO runs (run_id, status, started_at, date) VALUES ('old', 'done', '2026-01-01T00:00:00Z', "
        "'2026-01-01')"
    )
    conn.close()

    with RunLog.open(tmp_path) as log:
        old = log.get_run("old")
        assert (
            old.status == "done" and old.date == dt.date(2026, 1, 1) and old.picks == [] and old.pid is None
        )
        assert log.nodes("old") == []  # node_events exists now
        assert log.deliveries("old") == []
    with sqlite3.connect(tmp_path / "runs.sqlite") as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "llm_calls_run_agent" in indexes
        # An older ribao now sees a migration it does not know, and refuses the log in one line.
        assert "m006_alembic" in {r[0] for r in conn.execute("SELECT name FROM _migrations")}


def test_a_log_from_a_newer_ribao_is_refused(tmp_path: Path) -> None:
    RunLog.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "runs.sqlite")
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    with pytest.raises(RunLogError, match="newer ribao.*revision 9999"):
        RunLog.open(tmp_path)


def test_a_pre_alembic_log_from_a_newer_ribao_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "runs.sqlite", isolation_level=None)
    conn.executescript(FIRST_MIGRATION)
    conn.execute("INSERT INTO _migrations VALUES ('m999_future', '2030-01-01')")
    conn.close()
    with pytest.raises(RunLogError, match="newer ribao.*m999_future"):
        RunLog.open(tmp_path)


def test_a_postgres_log_from_a_newer_ribao_is_refused(postgres_url: str, tmp_path: Path) -> None:
    RunLog.open(tmp_path, url=postgres_url).close()
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(RunLogError, match="newer ribao.*revision 9999"):
        RunLog.open(tmp_path, url=postgres_url)


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "runs.sqlite").write_text("not sqlite " * 200)
    with pytest.raises(RunLogError, match="cannot use the run log .*runs.sqlite"):
        RunLog.open(tmp_path)


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("runs", "llm_calls", "node_events", "deliveries")}  # fmt: skip


def test_a_run_reads_back_as_recorded(log: RunLog, home: Path) -> None:
    run = log.get_run(RUN_A)
    assert run.status == "done" and run.date == DAY and run.categories == ["cs.CL", "cs.AI"]
    assert run.finished_at is not None and run.seconds is not None and run.seconds >= 0
    assert run.picks == PICKS and run.critiques == CRITIQUES and run.prompts == PROMPTS
    assert run.settings["llm"] == "deepseek"
    assert run.digest_path == str(home / "out/2026-02-18.md") and run.error is None

    calls = log.calls(RUN_A)
    expected = [c for _, _, cs in STEPS_A for c in cs]
    assert [c.seq for c in calls] == list(range(1, len(expected) + 1))
    assert [(c.agent, c.task) for c in calls] == [(c.agent, c.task) for c in expected]
    critic = log.calls(RUN_A, agent="critic")
    assert [c.node for c in critic] == ["critique_picks"] * 2 and critic[0].task_id == "t-critic-1"
    assert critic[0].parsed is not None and critic[0].parsed["P001"]["reason"] == REPLACE_REASON
    assert critic[0].messages[0] == {"role": "system", "content": "你是critic"}
    assert math.isclose(critic[0].cost or 0, price(expected[2])) and critic[0].currency == "CNY"
    retried = [c for c in calls if c.error]
    assert [c.task for c in retried] == ["2602.00009"] and retried[0].error == "background: too short"

    nodes = log.nodes(RUN_A)
    assert [n.node for n in nodes] == [node for node, _, _ in STEPS_A]
    assert nodes[0].duration_s == 1.0 and nodes[0].summary == "fetch_listing done"
    assert nodes[3].outputs["critiques"][0]["verdict"] == "revise"


def test_failed_and_no_announcement_runs_keep_their_error(log: RunLog) -> None:
    failed = log.get_run(RUN_B)
    assert failed.status == "failed" and failed.error.startswith("LLMOutputError")  # type: ignore[union-attr]
    assert failed.input_tokens == 1000 + 800  # the calls on record before the failure
    quiet = log.get_run(RUN_C)
    assert quiet.status == "no_announcement" and quiet.cost == 0.0 and quiet.total_tokens == 0


def test_a_resumed_run_is_running_again_and_keeps_its_calls(log: RunLog) -> None:
    log.start_run(RUN_B, settings={"llm": "deepseek"}, date=None, categories=["cs.CL"])
    run = log.get_run(RUN_B)
    assert run.status == "running" and run.finished_at is None and run.error is None
    assert run.date == DAY  # kept: a resume does not know the day
    log.record_calls(RUN_B, "write_summary", [priced(call("writer", "2602.00009", 10, 5), 0.0)])
    assert [c.seq for c in log.calls(RUN_B)] == [1, 2, 3]


def test_runs_are_found_by_unique_prefix_in_any_case(log: RunLog) -> None:
    assert log.get_run("01K0AA").run_id == RUN_A
    assert log.get_run("01k1").run_id == RUN_C
    assert log.get_run("latest").run_id == RUN_C
    with pytest.raises(RunNotFound, match="ambiguous: .*01K0AB.*01K0AA"):
        log.get_run("01K0A")
    with pytest.raises(RunNotFound, match="no run 'ZZZ'"):
        log.get_run("ZZZ")
    with pytest.raises(RunNotFound):
        log.get_run("%")  # LIKE wildcards are literal
    with pytest.raises(RunNotFound):
        log.get_run("")


def test_latest_is_never_a_replay(log: RunLog) -> None:
    from tests.support.runs import SETTINGS

    # A replay records no checkpoint of its own: `runs resume latest` after a replay once failed.
    log.start_run("01K9REPLAY00000000000000000", settings=SETTINGS, date=DAY)
    log.finish_run("01K9REPLAY00000000000000000", status="replay")
    assert log.list_runs()[0].run_id == "01K9REPLAY00000000000000000"
    assert log.get_run("latest").run_id == RUN_C
    assert log.get_run("01K9R").status == "replay"  # still found by its id


def test_list_runs_latest_first_and_by_status(log: RunLog) -> None:
    assert [r.run_id for r in log.list_runs()] == [RUN_C, RUN_B, RUN_A]
    assert [r.run_id for r in log.list_runs(status="failed")] == [RUN_B]
    assert [r.run_id for r in log.list_runs(limit=1)] == [RUN_C]


def test_per_agent_totals_add_up_to_the_run_totals(log: RunLog) -> None:
    run = log.get_run(RUN_A)
    usage = log.usage_by_agent(RUN_A)
    assert list(usage) == ["screener", "critic", "writer", "editor"]  # order of first call
    assert {a: u.calls for a, u in usage.items()} == {"screener": 3, "critic": 2, "writer": 3, "editor": 1}
    for field in ("input_tokens", "output_tokens", "cached_tokens"):
        assert sum(getattr(u, field) for u in usage.values()) == getattr(run, field)
    expected = sum(price(c) for _, _, cs in STEPS_A for c in cs)
    assert run.currency == "CNY" and math.isclose(run.cost or 0, expected)
    assert math.isclose(sum(u.cost or 0 for u in usage.values()), run.cost or 0)


def test_one_unknown_price_makes_the_agent_and_run_cost_unknown(tmp_path: Path) -> None:
    with RunLog.open(tmp_path) as log:
        log.start_run("r", settings={}, categories=[])
        screened = [priced(call("screener", "a", 10, 1), 0.5), priced(call("screener", "b", 10, 1), None)]
        log.record_calls("r", "screen_papers", screened)
        log.record_calls("r", "critique_picks", [priced(call("critic", "c", 10, 1), 0.25)])
        log.finish_run("r", status="done")
        usage = log.usage_by_agent("r")
        assert usage["screener"].cost is None and usage["critic"].cost == 0.25
        assert log.get_run("r").cost is None and log.get_run("r").input_tokens == 30


def test_explicit_totals_are_kept_and_bad_calls_are_refused(tmp_path: Path) -> None:
    with RunLog.open(tmp_path) as log:
        log.start_run("r", settings={}, categories=[])
        log.finish_run("r", status="done", cost=None, currency="USD",
                       usage={"input_tokens": 7, "output_tokens": 3})  # fmt: skip
        run = log.get_run("r")
        assert (run.input_tokens, run.output_tokens, run.cost, run.currency) == (7, 3, None, "USD")
        with pytest.raises(ValueError, match="unknown run status 'ok'"):
            log.finish_run("r", status="ok")
        with pytest.raises(RunNotFound, match="start_run first"):
            log.finish_run("missing", status="done")
        with pytest.raises(RunNotFound, match="cannot record run missing"):
            log.record_calls("missing", "n", [call("critic", "c", 1, 1)])


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ribao.runs import RunLog
    home, tag = Path(sys.argv[1]), sys.argv[2]
    with RunLog.open(home) as log:
        for i in range(15):
            run_id = f"{tag}-{i:02d}"
            log.start_run(run_id, settings={"llm": tag}, categories=["cs.CL"])
            log.finish_run(run_id, status="done")
    """
)


def test_two_processes_create_and_write_one_log(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), tag], cwd=Path(__file__).parents[1])
        for tag in ("p1", "p2", "p3")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    with RunLog.open(tmp_path) as log:
        assert len(log.list_runs(limit=100)) == 45
        with log.engine.connect() as conn:
            assert revision(conn) == HEAD


def test_a_run_log_opened_while_another_connection_writes_the_new_file_waits_for_it(tmp_path: Path) -> None:
    # Switching a new file to WAL needs it alone: SQLite said "database is locked" at once, without its
    # busy handler, and one of two jobs opening a day's new run log together failed (CI, test_shared_work).
    path = tmp_path / "runs.sqlite"
    engine = sqlite_engine(path)
    try:
        with held_new_file(path), engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("SELECT count(*) FROM held").scalar() == 0
    finally:
        engine.dispose()
