"""The LangGraph API with the memory on a Chroma server: `langgraph dev` rejects blocking calls in async
nodes, and the memory nodes on a server run there. Marked slow: it starts the server (about 10 s)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import chromadb
import pytest

from tests.support.http_run import SECRET, respond, write_config
from tests.support.langgraph_server import langgraph_dev
from tests.support.samples import sample_listing
from tests.support.servers import ChromaServer
from tests.support.stub_openai import StubOpenAI

pytestmark = pytest.mark.slow


def test_a_run_through_the_langgraph_api_remembers_on_a_chroma_server(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    from langgraph_sdk import get_client

    home = tmp_path / "api"
    home.mkdir()
    with StubOpenAI() as stub:
        stub.responder = respond
        write_config(home, stub.base_url)
        env = {
            **os.environ, "STUB_API_KEY": SECRET, "RIBAO_HOME": str(home),
            "RIBAO_OUT_DIR": str(tmp_path / "out"), "RIBAO_MEMORY__URL": chroma_server.url,
        }  # fmt: skip
        with langgraph_dev(env, tmp_path / "langgraph.log") as url:

            async def start() -> dict:
                client = get_client(url=url)
                thread = await client.threads.create()
                return await client.runs.wait(
                    thread["thread_id"],
                    "ribao",
                    input={"date": "2026-02-18", "source": str(sample_listing())},
                )

            out = asyncio.run(start())
    assert "__error__" not in out, out
    assert out["picks"] == 13
    server = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    remembered = server.get_collection("featured_papers").get(where={"run_id": out["run_id"]})["ids"]
    assert len(remembered) == 13
