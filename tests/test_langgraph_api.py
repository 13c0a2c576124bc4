"""The LangGraph API: `langgraph dev` serves langgraph.json's graph, and a run started through
langgraph_sdk writes the same digest as `ribao run` (the server rejects blocking calls in async nodes).
Marked slow: it starts the server (about 10 s)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.support.http_run import SECRET, respond, write_config
from tests.support.langgraph_server import langgraph_dev
from tests.support.resume import strip
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import ribao_ok

pytestmark = pytest.mark.slow


def test_a_run_through_the_langgraph_api_writes_the_digest_ribao_run_writes(tmp_path: Path) -> None:
    from langgraph_sdk import get_client

    source = str(sample_listing())
    with StubOpenAI() as stub:
        stub.responder = respond
        homes = {}
        for name in ("cli", "api"):
            homes[name] = tmp_path / name
            homes[name].mkdir()
            write_config(homes[name], stub.base_url)
        base = {**os.environ, "STUB_API_KEY": SECRET}
        cli_env = {**base, "RIBAO_HOME": str(homes["cli"])}
        ribao_ok(
            "run",
            "--source",
            source,
            "--out",
            str(tmp_path / "cli-out"),
            "--quiet",
            env=cli_env,
            cwd=tmp_path,
        )

        api_env = {**base, "RIBAO_HOME": str(homes["api"]), "RIBAO_OUT_DIR": str(tmp_path / "api-out")}
        with langgraph_dev(api_env, tmp_path / "langgraph.log") as url:

            async def start() -> dict:
                client = get_client(url=url)
                thread = await client.threads.create()
                return await client.runs.wait(
                    thread["thread_id"], "ribao", input={"date": "2026-02-18", "source": source}
                )

            out = asyncio.run(start())
        assert "__error__" not in out, out
        assert out["digest_path"] == str(tmp_path / "api-out" / "2026-02-18.md")
        assert out["picks"] == 13

    api = (tmp_path / "api-out" / "2026-02-18.md").read_text(encoding="utf-8")
    cli = (tmp_path / "cli-out" / "2026-02-18.md").read_text(encoding="utf-8")
    assert strip(api) == strip(cli)
