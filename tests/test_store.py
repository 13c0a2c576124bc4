"""Backends by URL: `ribao db upgrade`, a run on Postgres + a Chroma server, `ribao store migrate`, faults."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import chromadb
import psycopg
import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.graph.builder import compile_graph
from ribao.graph.checkpoint import open_checkpointer
from ribao.runs import HEAD
from ribao.runs.migrations import revisions
from tests.support.http_run import configure_home, one_line_failure, run_cli
from tests.support.servers import ChromaServer, free_port, start_chroma
from tests.support.stub_openai import StubOpenAI

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_db_upgrade_migrates_a_home_once(tmp_path: Path) -> None:
    first = cli("db", "upgrade")
    every = ", ".join(revisions())  # a new home gets them all
    assert first.exit_code == 0 and f"at revision {HEAD} ({every})" in first.output  # type: ignore[attr-defined]
    again = cli("db", "upgrade")
    assert again.exit_code == 0 and "nothing to apply" in again.output  # type: ignore[attr-defined]


def test_two_db_upgrades_at_once_apply_each_migration_once(postgres_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "RIBAO_STORE__URL": postgres_url, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "ribao", "db", "upgrade"], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    said = sorted(out for out, _ in outs)
    every = f"({', '.join(revisions())})"
    assert every in said[0] and "nothing to apply" in said[1]  # one applied them, the other saw them done
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        versions = [r[0] for r in conn.execute("SELECT v FROM checkpoint_migrations ORDER BY v")]
        assert versions == list(range(len(versions))) and versions  # each checkpoint migration once


def test_an_unreachable_database_fails_in_one_line_before_any_model_call(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql://ribao:secret-pw@127.0.0.1:{free_port()}/runs"
    line = one_line_failure(tmp_path, openai_stub, monkeypatch, "RIBAO_STORE__URL", url)
    assert line.startswith("ribao: error: cannot reach the database postgresql://")
    assert "secret-pw" not in line and "***" in line
    listed = cli("runs", "list")
    assert listed.exit_code == 1 and "cannot reach the database" in listed.output  # type: ignore[attr-defined]


def test_a_newer_database_is_refused_by_every_command_in_one_line(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
    assert cli("db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'future9'")
    for args in (["runs", "list"], ["db", "upgrade"]):
        result = cli(*args)
        assert result.exit_code == 1, args  # type: ignore[attr-defined]
        assert result.output.strip().splitlines() == [  # type: ignore[attr-defined]
            "ribao: error: the run log was written by a newer ribao (unknown revision future9); upgrade ribao"
        ]


@pytest.fixture
def own_chroma(tmp_path: Path) -> object:
    """A Chroma server of this test's own, which the test may stop."""
    server = start_chroma(tmp_path / "store")
    try:
        yield server
    finally:
        server.stop()


def test_a_run_on_postgres_and_a_chroma_server_that_goes_away_loses_nothing_checkpointed(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, postgres_url: str,
    own_chroma: ChromaServer,
) -> None:  # fmt: skip
    home = configure_home(tmp_path, openai_stub, monkeypatch)
    monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
    monkeypatch.setenv("RIBAO_MEMORY__URL", own_chroma.url)
    answer = openai_stub.responder

    def stop_at_the_writer(body: dict[str, object]) -> dict[str, object]:
        if body["tools"][0]["function"]["name"] in ("MustReadOutput", "NotableOutput"):  # type: ignore[index]
            own_chroma.stop()  # the memory was read at recall_memory; remember_digest comes later
        return answer(body)  # type: ignore[misc]

    openai_stub.responder = stop_at_the_writer
    result = run_cli("--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    assert f"Chroma memory at {own_chroma.url}" in result.output  # the endpoint is named
    assert not (home / "runs.sqlite").exists() and not (home / "checkpoints.sqlite").exists()

    listed = json.loads(cli("runs", "list", "--json").output)  # type: ignore[attr-defined]
    assert [r["status"] for r in listed] == ["failed"]
    run_id = listed[0]["run_id"]

    async def checkpointed() -> dict[str, object]:
        async with open_checkpointer(postgres_url) as saver:
            state = await compile_graph(checkpointer=saver).aget_state(
                {"configurable": {"thread_id": run_id}}
            )
        return {
            "next": state.next,
            "calls": len(state.values["llm_calls"]),
            "digest": state.values["digest_path"],
        }

    got = asyncio.run(checkpointed())
    # Every answered call is in the checkpoint, the digest was written, only remembering is left.
    assert got["next"] == ("remember_digest",) and got["calls"] == len(openai_stub.chat_requests)
    assert Path(str(got["digest"])).is_file()

    # The server is back (same folder, same endpoint): the resumed run only remembers, repaying nothing.
    paid = len(openai_stub.chat_requests)
    back = start_chroma(own_chroma.path, own_chroma.port)
    try:
        resumed = cli("runs", "resume", run_id, "--quiet")
        assert resumed.exit_code == 0, resumed.output  # type: ignore[attr-defined]
        assert len(openai_stub.chat_requests) == paid
        server = chromadb.HttpClient(host="127.0.0.1", port=back.port)
        assert server.get_collection("featured_papers").count() == 13
    finally:
        back.stop()


def test_store_migrate_copies_runs_checkpoints_and_memory_losing_nothing(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, postgres_url: str,
    chroma_server: ChromaServer,
) -> None:  # fmt: skip
    home = configure_home(tmp_path, openai_stub, monkeypatch)
    assert run_cli("--out", str(tmp_path / "out"), "--quiet").exit_code == 0
    before = json.loads(cli("runs", "show", "latest", "--json").output)  # type: ignore[attr-defined]

    bad = cli("store", "migrate", "--to", "mysql://x/y")
    assert bad.exit_code == 2 and "--to must be a postgresql:// URL" in bad.output  # type: ignore[attr-defined]

    moved = cli("store", "migrate", "--to", postgres_url, "--memory-url", chroma_server.url)
    assert moved.exit_code == 0, moved.output  # type: ignore[attr-defined]
    out = moved.output  # type: ignore[attr-defined]
    assert "runs 1/1" in out and "llm_calls 26/26" in out and "memory featured_papers 13/13" in out
    assert "checkpoints" in out and "(source/target, all equal)" in out
    again = cli("store", "migrate", "--to", postgres_url)
    assert again.exit_code == 0 and "1 run(s) were there already" in again.output  # type: ignore[attr-defined]

    monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
    after = json.loads(cli("runs", "show", "latest", "--json").output)  # type: ignore[attr-defined]
    assert after == before
    # The session's Chroma server is shared: other tests' homes may have moved papers there too.
    home_ids = (
        chromadb.PersistentClient(path=str(home / "memory")).get_collection("featured_papers").get()["ids"]
    )
    server = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    on_server = server.get_collection("featured_papers").get(ids=home_ids, include=[])["ids"]
    assert len(home_ids) == 13 and sorted(on_server) == sorted(home_ids)
    assert (home / "runs.sqlite").exists()  # the home is only read
