"""The writers and the full-text fetch never hold the event loop, and each pick's token count is its own."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from ribao.app.services import Services
from ribao.fulltext.tokens import TokenBudget, TokenCounter, estimate_tokens
from ribao.graph.builder import compile_graph
from ribao.settings import MemorySettings, Settings
from tests.support.fakes import ScriptedChatModel, default_responder
from tests.support.fulltext_server import DATA, FulltextServer
from tests.support.loop_watch import LoopProbe, run_watched
from tests.support.loopback import LoopbackServer


class Tokenizer:
    """llama.cpp's ``/extras/tokenize/count`` on loopback: answers after `delay` seconds (the count is
    the estimate), or HTTP 500 for a text containing `refuse`; `on_request(text)`, when set, is called
    first (a `LoopProbe`'s check)."""

    def __init__(self, delay: float, refuse: str | None = None) -> None:
        self.delay, self.refuse, self.requests = delay, refuse, 0
        self.on_request: Callable[[str], None] | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                text = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["input"]
                outer.requests += 1
                if outer.on_request is not None:
                    outer.on_request("tokenize")
                time.sleep(outer.delay)
                refused = outer.refuse is not None and outer.refuse in text
                body = b"" if refused else json.dumps({"count": estimate_tokens(text)}).encode()
                self.send_response(500 if refused else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = LoopbackServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tokenizer() -> Iterator[Tokenizer]:
    server = Tokenizer(delay=0.2)
    yield server
    server.close()


def graph_run(
    fulltext: FulltextServer, tmp_path: Path, tokenizer: Tokenizer
) -> Coroutine[Any, Any, dict[str, Any]]:
    """Return a run of the graph on the small listing (3 must-reads read in full, 1 notable) with the
    local model's token counter asking `tokenizer`. Built here, outside the loop, and without a run
    log: only the nodes run on the loop."""
    settings = Settings(
        home=tmp_path / "home",
        source=str(DATA / "listing.jsonl"),
        out_dir=tmp_path / "out",
        memory=MemorySettings(embedder="hash"),
        must_read=3,
        notable=1,
        max_critic_rounds=1,
        fulltext=fulltext.options(timeout_seconds=60.0),  # a guard: the server answers at once
    )
    models = {
        a: ScriptedChatModel(responder=default_responder) for a in ("screener", "critic", "writer", "editor")
    }
    ctx = Services(settings, models).context("loop")
    budget = TokenBudget(
        window=16_000, reserve=2048, counter=TokenCounter.for_local_server(tokenizer.base_url)
    )
    ctx = dataclasses.replace(ctx, writer_budget=budget)
    inputs = {"requested_date": None, "max_critic_rounds": 1}
    return compile_graph().ainvoke(inputs, {"recursion_limit": 40}, context=ctx)  # type: ignore[no-any-return]


def test_a_slow_tokenizer_never_holds_the_event_loop(
    fulltext_server: FulltextServer, tmp_path: Path, tokenizer: Tokenizer
) -> None:
    # Each tokenizer and full-text request waits until the loop has run a callback: a count or a fetch
    # made on the loop holds it until answered. (A wall-time watch failed on a busy machine, where the
    # scripted models' steps waited for the GIL past its threshold.)
    probe = LoopProbe()
    tokenizer.on_request = fulltext_server.on_request = probe.check
    state = asyncio.run(probe.watch(graph_run(fulltext_server, tmp_path, tokenizer)))
    assert tokenizer.requests >= 4  # each must-read's window and excerpt were counted by the tokenizer
    assert {s.source.token_count for s in state["summaries"].values()} == {"llama.cpp"}
    assert probe.checked == tokenizer.requests + len(fulltext_server.hits) and fulltext_server.hits
    assert probe.held == []


def test_each_pick_records_the_counter_of_its_own_count(
    fulltext_server: FulltextServer, tmp_path: Path
) -> None:
    tokenizer = Tokenizer(delay=0.05, refuse="arxiv:2501.10120")  # its excerpt falls back to the estimate
    try:
        state, _ = run_watched(graph_run(fulltext_server, tmp_path, tokenizer))
    finally:
        tokenizer.close()
    counted = {i: s.source.token_count for i, s in state["summaries"].items() if s.tier == "must_read"}
    assert counted == {"2501.11120": "llama.cpp", "2501.10120": "estimate", "2004.14974": "llama.cpp"}


def test_the_watch_reports_a_blocking_call_and_not_an_await() -> None:
    async def blocking() -> str:
        await asyncio.sleep(0.2)  # waiting is fine
        time.sleep(0.12)  # holding the loop is not
        return "done"

    result, slow = run_watched(blocking())
    assert result == "done" and len(slow) == 1 and "held the loop" in slow[0]
