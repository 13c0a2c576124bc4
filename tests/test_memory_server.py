"""The memory on a Chroma server: a run goes through Chroma's async client with async memory nodes that
never block the event loop; an unreachable server fails in one line before any model call; the memory
commands read what a run remembered there."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.api.fastapi import FastAPI
from typer.testing import CliRunner

from ribao.cli import app
from ribao.context import RunContext
from ribao.graph import nodes
from ribao.memory import HashEmbedder
from ribao.memory.aio import ServerMemory
from ribao.settings import Settings
from tests.support.http_run import configure_home, one_line_failure, run_cli
from tests.support.memory import PAPERS
from tests.support.papers import pick
from tests.support.servers import ChromaServer, free_port
from tests.support.stub_openai import StubOpenAI

MEMORY_NODES = (nodes.recall_memory, nodes.flag_near_duplicates, nodes.remember_digest)


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("the run used Chroma's sync HTTP client")


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_the_memory_nodes_are_coroutines() -> None:
    # LangGraph runs a sync node in a worker thread; these run on the loop and await the memory.
    assert all(inspect.iscoroutinefunction(node) for node in MEMORY_NODES)


def test_a_run_remembers_on_the_server_through_the_async_client_alone(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, chroma_server: ChromaServer
) -> None:
    configure_home(tmp_path, openai_stub, monkeypatch)
    monkeypatch.setenv("RIBAO_MEMORY__URL", chroma_server.url)
    with monkeypatch.context() as sync_off:
        sync_off.setattr(FastAPI, "_make_request", _refuse)
        result = run_cli("--out", str(tmp_path / "out"), "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.output)["run_id"]
    digest = json.loads((tmp_path / "out" / "2026-02-18.json").read_text(encoding="utf-8"))
    picked = sorted(p["arxiv_id"] for p in digest["picks"])
    assert len(picked) == 13

    server = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    got = server.get_collection("featured_papers").get(ids=picked, include=["metadatas"])
    assert sorted(got["ids"]) == picked
    assert {m["run_id"] for m in got["metadatas"] or []} == {run_id}

    # The memory commands read the server's collection (with the sync client: no event loop there).
    stats = cli("memory", "stats", "--json")
    assert stats.exit_code == 0, stats.output
    shown = json.loads(stats.output)
    assert shown["location"] == chroma_server.url and shown["count"] >= 13
    assert "2026-02-18" in shown["dates"]
    forgot = cli("memory", "forget", picked[0])
    assert forgot.exit_code == 0, forgot.output
    assert server.get_collection("featured_papers").get(ids=[picked[0]])["ids"] == []


def test_a_day_run_remembers_each_profile_in_its_own_collection_on_the_server(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, chroma_server: ChromaServer
) -> None:
    home = configure_home(tmp_path, openai_stub, monkeypatch)
    with (home / "config.toml").open("a", encoding="utf-8") as f:
        f.write("[profiles.srv_a]\n[profiles.srv_b]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RIBAO_MEMORY__URL", chroma_server.url)
    with monkeypatch.context() as sync_off:
        sync_off.setattr(FastAPI, "_make_request", _refuse)
        result = run_cli("--no-push", "--no-fulltext", "--all-profiles", "--quiet")
    assert result.exit_code == 0, result.output
    server = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    for name in ("srv_a", "srv_b"):
        digest = json.loads((tmp_path / "digests" / name / "2026-02-18.json").read_text(encoding="utf-8"))
        remembered = server.get_collection(f"featured_papers__{name}").get()["ids"]
        assert sorted(remembered) == sorted(p["arxiv_id"] for p in digest["picks"]) and len(remembered) == 13


def test_an_unreachable_memory_server_fails_in_one_line_before_any_model_call(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line = one_line_failure(tmp_path, openai_stub, monkeypatch, "RIBAO_MEMORY__URL", url)
    assert line.startswith(f"ribao: error: Chroma memory at {url}: connecting failed")
    assert json.loads(cli("runs", "list", "--json").output) == []  # no run was started


def test_the_memory_nodes_never_block_the_event_loop_on_a_server(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    from blockbuster import blockbuster_ctx

    settings = Settings(home=tmp_path / "home", memory={"embedder": "hash", "url": chroma_server.url})
    memory = ServerMemory(chroma_server.url, embedder=HashEmbedder(), profile="noblock")
    ctx = RunContext(
        settings=settings, models={}, prompts=None, read_listing=None, run_id="t-noblock", memory=memory
    )  # type: ignore[arg-type]
    runtime: Any = type("R", (), {"context": ctx, "stream_writer": staticmethod(lambda _: None)})()
    day_a, day_b = dt.date(2026, 2, 17), dt.date(2026, 2, 18)
    earlier = {
        "date": day_a,
        "candidates": PAPERS[:20],
        "picks": [pick(p, i + 1) for i, p in enumerate(PAPERS[:5])],
    }
    later = {
        "date": day_b,
        "candidates": PAPERS[:40],
        "picks": [pick(p, i + 1) for i, p in enumerate(PAPERS[20:25])],
    }

    async def both_days() -> dict[str, Any]:
        await memory.connect()
        await nodes.remember_digest(earlier, runtime)  # type: ignore[arg-type]
        recalled = await nodes.recall_memory(later, runtime)  # type: ignore[arg-type]
        await nodes.remember_digest(later, runtime)  # type: ignore[arg-type]
        return recalled

    with blockbuster_ctx():
        recalled = asyncio.run(both_days())
    assert sorted(e.arxiv_id for e in recalled["excluded"]) == sorted(p.arxiv_id for p in PAPERS[:5])
