"""The commands' sync Chroma client (`ribao memory …`, `store migrate --memory-url`) against a server
that hangs or answers 500s: one line naming the endpoint within `[memory] timeout_seconds`. Chroma's
own client waits for ever (it even sends a request while it is being built)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import chromadb
import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.memory.embedders import make_embedder
from ribao.memory.store import MemoryStore
from ribao.schemas import FeaturedPaper
from tests.support.chroma_proxy import ChromaProxy, Mode
from tests.support.servers import ChromaServer

DAY = dt.date(2026, 2, 17)


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("fault", ["hang", "fail"])
def test_memory_commands_and_store_migrate_give_up_on_a_silent_or_failing_chroma_server_in_one_line(
    fault: Mode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chroma_server: ChromaServer,
    postgres_url: str,
) -> None:  # fmt: skip
    home = tmp_path / "home"
    with MemoryStore.open(home / "memory", embedder=make_embedder("hash")) as memory:
        paper = FeaturedPaper(arxiv_id="2602.00001", title="t", abstract="a", date=DAY, tier="notable",
                              rank=1)  # fmt: skip
        memory.remember(DAY, [paper])
    monkeypatch.setenv("RIBAO_HOME", str(home))
    monkeypatch.setenv("RIBAO_MEMORY__EMBEDDER", "hash")
    monkeypatch.setenv("RIBAO_MEMORY__TIMEOUT_SECONDS", "2")
    with ChromaProxy(chroma_server.port) as proxy:
        proxy.mode = fault
        said = "no answer within 2 s" if fault == "hang" else "HTTP 500"
        monkeypatch.setenv("RIBAO_MEMORY__URL", proxy.url)
        for args in (("memory", "stats"), ("memory", "list")):
            result = cli(*args)  # was: no end at all with "hang"
            assert result.exit_code == 1, result.output
            [line] = result.output.strip().splitlines()
            assert line.startswith(f"ribao: error: Chroma memory at {proxy.url}: ") and said in line, line
            assert len(line) < 400 and "<html>" not in line
        monkeypatch.delenv("RIBAO_MEMORY__URL")
        moved = cli("store", "migrate", "--to", postgres_url, "--memory-url", proxy.url)
        assert moved.exit_code == 1, moved.output
        [line] = moved.output.strip().splitlines()
        assert line.startswith(f"ribao: error: Chroma memory at {proxy.url}: ") and said in line, line
        assert proxy.faulted  # the fault was met, not dodged

        proxy.mode = "pass"  # the same server, well again: the bound changes nothing else
        # The server's collection holds a paper of another home already: merged into, not "lost rows:
        # memory featured_papers 1/14" (the server's whole count was compared with the home's).
        with MemoryStore.open(url=chroma_server.url, embedder=make_embedder("hash")) as other:
            other.remember(DAY, [paper.model_copy(update={"arxiv_id": "2602.09999"})])
        moved = cli("store", "migrate", "--to", postgres_url, "--memory-url", proxy.url)
        assert moved.exit_code == 0, moved.output
        assert "memory featured_papers 1/1" in moved.output
        monkeypatch.setenv("RIBAO_MEMORY__URL", proxy.url)
        listed = cli("memory", "list")
        assert listed.exit_code == 0 and "2602.00001" in listed.output, listed.output
        assert "2602.09999" in listed.output  # the other home's paper is kept
        # The session's server is shared with other tests: leave its collection as it was.
        server = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
        server.get_collection("featured_papers").delete(ids=["2602.00001", "2602.09999"])
