"""A Chroma server that turns faulty mid-run (answers 500s, or hangs): the run fails in one line naming
the endpoint, within the memory's timeout, loses nothing checkpointed, and resumes once the server is
well again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.graph.builder import compile_graph
from ribao.graph.checkpoint import open_checkpointer
from tests.support.chroma_proxy import ChromaProxy, Mode
from tests.support.http_run import configure_home, run_cli
from tests.support.servers import ChromaServer
from tests.support.stub_openai import StubOpenAI

WRITERS = ("MustReadOutput", "NotableOutput")


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _next_nodes(home: Path, run_id: str) -> tuple[str, ...]:
    async def read() -> tuple[str, ...]:
        async with open_checkpointer(home / "checkpoints.sqlite") as saver:
            graph = compile_graph(checkpointer=saver)
            state = await graph.aget_state({"configurable": {"thread_id": run_id}})
        return tuple(state.next)

    return asyncio.run(read())


@pytest.mark.parametrize("fault", ["fail", "hang"])
def test_a_chroma_server_that_fails_or_hangs_mid_run_fails_it_naming_the_endpoint_and_it_resumes(
    fault: Mode, tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch,
    chroma_server: ChromaServer,
) -> None:  # fmt: skip
    home = configure_home(tmp_path, openai_stub, monkeypatch)
    answer = openai_stub.responder
    with ChromaProxy(chroma_server.port) as proxy:
        monkeypatch.setenv("RIBAO_MEMORY__URL", proxy.url)
        monkeypatch.setenv("RIBAO_MEMORY__TIMEOUT_SECONDS", "2")

        def turn_faulty_at_the_writers(body: dict[str, Any]) -> dict[str, Any]:
            if body["tools"][0]["function"]["name"] in WRITERS:
                proxy.mode = fault  # the memory was read at recall; remember_digest comes later
            return answer(body)  # type: ignore[misc]

        openai_stub.responder = turn_faulty_at_the_writers
        result = run_cli("--out", str(tmp_path / "out"), "--quiet")  # was: no end at all with "hang"
        assert result.exit_code == 1, result.output
        [line] = result.output.strip().splitlines()
        said = "no answer within 2 s" if fault == "hang" else "500"
        assert line.startswith(f"ribao: error: Chroma memory at {proxy.url}: ") and said in line, line
        assert len(line) < 400 and "<html>" not in line  # the server's page is not pasted in
        assert proxy.faulted  # the fault was met, not dodged

        [run] = json.loads(cli("runs", "list", "--json").output)
        assert run["status"] == "failed" and _next_nodes(home, run["run_id"]) == ("remember_digest",)
        paid = len(openai_stub.chat_requests)
        proxy.mode = "pass"
        resumed = cli("runs", "resume", run["run_id"], "--quiet")
        assert resumed.exit_code == 0, resumed.output
        assert len(openai_stub.chat_requests) == paid  # only remembering was left
    assert (tmp_path / "out" / "2026-02-18.md").is_file()
