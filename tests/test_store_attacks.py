"""Careless and hostile input to the backends and workers: URLs of the wrong kind, passwords in URLs, a
database newer than the code, a database that goes away under a waiting worker, bad backfills."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.servers import start_postgres
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import jobs, listings_folder, ribao_ok, ribao_proc, worker_home

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret-pw-0123"


def cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "url", [f"mysql://ribao:{SECRET}@db.example/runs", "http://127.0.0.1:5432/runs", "postgresql:/runs"]
)
def test_a_store_url_of_another_kind_is_one_line_without_its_password(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_STORE__URL", url)
    for args in (["db", "upgrade"], ["runs", "list"]):
        result = cli(*args)
        assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
        [line] = result.output.strip().splitlines()  # type: ignore[attr-defined]
        assert line.startswith("ribao: error: invalid settings: store.url") and "postgresql://" in line
        assert SECRET not in line


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999", f"ftp://u:{SECRET}@host"])
def test_a_malformed_memory_url_is_one_line_without_its_password(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_MEMORY__URL", url)
    result = cli("memory", "stats")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    [line] = result.output.strip().splitlines()  # type: ignore[attr-defined]
    assert line.startswith("ribao: error: invalid settings: memory.url") and SECRET not in line
    monkeypatch.delenv("RIBAO_MEMORY__URL")
    moved = cli("store", "migrate", "--to", "postgresql://u@127.0.0.1:1/x", "--memory-url", url)
    assert moved.exit_code == 2 and SECRET not in moved.output  # type: ignore[attr-defined]
    assert moved.output.startswith("ribao: error: --memory-url: memory URL must look like")  # type: ignore[attr-defined]


def test_an_unreachable_chroma_server_is_named_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.servers import free_port

    monkeypatch.setenv("RIBAO_MEMORY__URL", f"http://reader:{SECRET}@127.0.0.1:{free_port()}")
    result = cli("memory", "stats")
    assert result.exit_code == 1 and SECRET not in result.output  # type: ignore[attr-defined]
    assert result.output.startswith("ribao: error: Chroma memory at http://reader:***@127.0.0.1")  # type: ignore[attr-defined]


def test_workers_and_enqueue_refuse_a_newer_database_before_taking_or_adding_a_job(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = listings_folder(tmp_path / "listings")
    with StubOpenAI() as stub:
        env = worker_home(tmp_path / "home", stub, postgres_url)
        ribao_ok("enqueue", "run", "--date", "2026-02-18", "--source", str(folder), env=env, cwd=tmp_path)
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'future9'")
        newer = (
            "ribao: error: the run log was written by a newer ribao (unknown revision future9); upgrade ribao"
        )
        for args in (
            ["worker", "--until-empty"],
            ["enqueue", "run", "--date", "2026-02-19", "--source", str(folder)],
        ):
            proc = ribao_proc(*args, env=env, cwd=tmp_path)
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 1, err
            assert err.strip().splitlines()[-1] == newer and "Traceback" not in err
        assert [(j["status"], j["attempts"]) for j in jobs(postgres_url)] == [("todo", 0)]  # not taken
        assert stub.chat_requests == []


def test_a_worker_given_an_unreachable_database_says_so_in_one_line(tmp_path: Path) -> None:
    from tests.support.servers import free_port

    with StubOpenAI() as stub:
        env = worker_home(tmp_path / "home", stub, f"postgresql://ribao:{SECRET}@127.0.0.1:{free_port()}/q")
        proc = ribao_proc("worker", env=env, cwd=tmp_path)
        _, err = proc.communicate(timeout=60)  # was: 30 s of pool retries, then a PoolTimeout traceback
    assert proc.returncode == 1 and "Traceback" not in err and SECRET not in err
    assert err.strip().splitlines()[-1].startswith("ribao: error: cannot reach the database postgresql://")


@pytest.mark.slow  # about 45 s: procrastinate's listener retries before it gives the worker up
def test_a_waiting_worker_whose_database_goes_away_stops_with_an_error_and_loses_no_job(
    tmp_path: Path,
) -> None:
    try:
        server = start_postgres()
    except RuntimeError as exc:
        pytest.skip(f"PostgreSQL cannot start here: {exc}")
    try:
        url = server.create_database("queue")
        with StubOpenAI() as stub:
            env = worker_home(tmp_path / "home", stub, url)
            proc = subprocess.Popen(
                [sys.executable, "-m", "ribao", "worker"], env={**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            deadline = time.monotonic() + 120
            while not _worker_registered(url):
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
                time.sleep(0.2)
            server.stop()  # procrastinate stops a waiting worker whose database is gone, as if asked to
            _, err = proc.communicate(timeout=120)
    finally:
        server.stop()
    assert proc.returncode == 1, err  # was 0: a supervisor would not restart it
    assert err.strip().splitlines()[-1].startswith("ribao: error: lost the database postgresql://"), err[
        -4000:
    ]


def _worker_registered(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT to_regclass('procrastinate_workers') IS NOT NULL"
                " AND EXISTS (SELECT 1 FROM procrastinate_workers)"
            ).fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def test_a_ctrl_c_lets_a_waiting_worker_stop_cleanly(tmp_path: Path, postgres_url: str) -> None:
    with StubOpenAI() as stub:
        env = {**worker_home(tmp_path / "home", stub, postgres_url), "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "ribao", "worker"], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not _worker_registered(postgres_url):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
            time.sleep(0.2)
        proc.send_signal(__import__("signal").SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err and "ribao: error" not in err, err


def test_backfill_refuses_bad_listings_and_says_when_a_range_has_no_listing_day(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = listings_folder(tmp_path / "listings")
    day18 = str(folder / "2026-02-18.cs.jsonl")
    with StubOpenAI() as stub:
        env = worker_home(tmp_path / "home", stub, postgres_url)

        def fails(*args: str) -> tuple[int, str]:
            proc = ribao_proc(*args, env=env, cwd=tmp_path)
            _, err = proc.communicate(timeout=120)
            assert "Traceback" not in err
            return proc.returncode, err.strip().splitlines()[-1]

        # A weekend (and days to come) is a day without announcement: status 3, not a silent success.
        assert fails("backfill", "--from", "2026-02-21", "--to", "2026-02-22", "--source", str(folder)) == (
            3,
            "ribao: no announcement: no listing day from 2026-02-21 to 2026-02-22 (weekends, holidays and "
            "days not announced yet)",
        )
        # One day's file for two days was queued as two jobs, the second failing in the worker.
        code, line = fails("backfill", "--from", "2026-02-18", "--to", "2026-02-19", "--source", day18)
        assert code == 1 and line == (
            f"ribao: error: {day18} is the listing of 2026-02-18, not of 2026-02-19; for several days give "
            "a folder of listings named by date"
        )
        # A malformed listing in the folder is named before anything is queued.
        (folder / "2026-02-20.cs.jsonl").write_text('{"id": "2602.00001", "title": 5}\n', encoding="utf-8")
        code, line = fails("backfill", "--from", "2026-02-18", "--to", "2026-02-20", "--source", str(folder))
        assert code == 1 and line.startswith(f"ribao: error: {folder / '2026-02-20.cs.jsonl'}:1: field")
        # Files in the folder that are no listing of their day: each named, with what is wrong.
        other = folder / "2026-02-17.cs.jsonl"
        bad = {
            "the listing of another day": (
                (folder / "2026-02-18.cs.jsonl").read_bytes(),
                f"{other} is named for 2026-02-17 but is the listing of 2026-02-18; rename or remove it",
            ),  # was: "{folder} is the listing of …; for several days give a folder", naming the folder
            "binary": (bytes(range(256)) * 8, f"{other}: neither JSONL nor Atom XML (starts with b'"),
            "UTF-16": ('{"id": "x"}\n'.encode("utf-16"), f"{other}: neither JSONL nor Atom XML (starts with"),
            "empty": (b"", f"{other}: the file is empty"),
        }
        for what, (data, expected) in bad.items():
            other.write_bytes(data)
            code, line = fails("enqueue", "run", "--date", "2026-02-17", "--source", str(folder))
            assert code == 1 and line.startswith(f"ribao: error: {expected}"), (what, line)
        other.unlink()
        code, line = fails("enqueue", "run", "--date", "2026-02-18", "--source", str(tmp_path / "nope"))
        assert (code, line) == (2, f"ribao: error: --source {tmp_path / 'nope'}: no such file or folder")
        assert not _queue_exists(postgres_url) or jobs(postgres_url) == []


def _queue_exists(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0])  # type: ignore[index]


def test_db_upgrade_by_a_role_without_rights_is_one_line(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader")  # roles are per cluster; each test's database is new
        conn.execute("CREATE ROLE reader LOGIN")
    as_reader = postgres_url.replace("postgresql://postgres@", f"postgresql://reader:{SECRET}@")
    monkeypatch.setenv("RIBAO_STORE__URL", as_reader)
    for _ in ("a fresh database (no right to create the tables)", "a database upgraded by its owner"):
        result = cli("db", "upgrade")
        assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
        [line] = result.output.strip().splitlines()  # type: ignore[attr-defined]
        assert line.startswith("ribao: error: cannot use the run log postgresql://reader:***@")
        assert "permission denied" in line
        monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
        assert cli("db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
        monkeypatch.setenv("RIBAO_STORE__URL", as_reader)


@pytest.mark.parametrize("given", [{}, {"date": "2026-02-31"}, {"date": 20260218}])
def test_the_api_graph_names_a_missing_or_malformed_date(given: dict[str, object]) -> None:
    import asyncio

    from ribao.app.api import graph
    from ribao.errors import BadFlag

    with pytest.raises(BadFlag) as raised:  # was KeyError 'date', "day is out of range for month", TypeError
        asyncio.run(graph.ainvoke(given))
    assert (
        str(raised.value) == f"input 'date' must be an announcement day YYYY-MM-DD, got {given.get('date')!r}"
    )


def test_store_migrate_of_a_home_holding_nothing_is_an_error_not_an_empty_success(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong RIBAO_HOME (or a home that wrote to the servers from the start) said "copied to …: nothing
    to copy (source/target, all equal)" with status 0, so a script moving a home went on as if it had."""
    empty = tmp_path / "empty-home"
    empty.mkdir()
    monkeypatch.setenv("RIBAO_HOME", str(empty))
    monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)  # already on the target: still nothing to move
    result = cli("store", "migrate", "--to", postgres_url)
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.output.strip() == (  # type: ignore[attr-defined]
        f"ribao: error: nothing to copy: {empty} holds no run log or checkpoints "
        "(is RIBAO_HOME the home you mean to move?)"
    )
    assert list(empty.iterdir()) == []  # the home is only read
