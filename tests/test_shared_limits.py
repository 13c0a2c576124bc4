"""Provider limits shared through Postgres hold across workers: two processes' worth of gates (two event
loops) with `max_concurrency = 2` never have more than 2 requests in flight at the provider together."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from ribao.llm.gates import GatedTransport
from ribao.llm.limits import Limits
from tests.support.http_run import configure_home, run_cli
from tests.support.stub_openai import StubOpenAI

BODY = {"model": "stub-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}


class InFlight:
    """A responder that holds each request until `reach` requests have been in flight at once, then
    0.3 s more (time for any further one to arrive), and counts the most in flight at once.

    Waiting for the count, not a fixed time: on a busy machine one worker thread finished its requests
    before the other had started, and the 4 in flight without a shared budget were 2."""

    GUARD = 60.0  # seconds a request waits for the others: only a hang reaches it

    def __init__(self, reach: int) -> None:
        self.reach = reach
        self.cond = threading.Condition()
        self.now = self.most = 0

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.cond:
            self.now += 1
            self.most = max(self.most, self.now)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.most >= self.reach, timeout=self.GUARD)
        time.sleep(0.3)
        with self.cond:
            self.now -= 1
        return {"text": "ok"}


def _limits(shared_url: str | None) -> Limits:
    # timeout (the read timeout) past InFlight's guard: a request may wait for the other worker's
    return Limits(
        label="provider stub", max_concurrency=2, requests_per_minute=None, tokens_per_minute=None,
        timeout=120, retry_seconds=30, backoff_seconds=0.1, max_retries=0, breaker_threshold=5,
        shared_url=shared_url,
    )  # fmt: skip


def _worker(base_url: str, limits: Limits, codes: list[int]) -> None:
    """One worker: its own event loop (so its own gate) sending 4 requests at once."""

    async def go() -> None:
        transport = GatedTransport("stub", limits, httpx.AsyncHTTPTransport())
        async with httpx.AsyncClient(transport=transport) as client:
            replies = await asyncio.gather(
                *(client.post(f"{base_url}/chat/completions", json=BODY) for _ in range(4))
            )
        codes.extend(r.status_code for r in replies)

    asyncio.run(go())


def _most_in_flight(shared_url: str | None, reach: int) -> int:
    with StubOpenAI() as stub:
        flight = InFlight(reach)
        stub.responder = flight
        codes: list[int] = []
        workers = [
            threading.Thread(target=_worker, args=(stub.base_url, _limits(shared_url), codes))
            for _ in range(2)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert codes == [200] * 8
        return flight.most


def test_max_concurrency_holds_across_workers_when_the_budget_is_in_postgres(postgres_url: str) -> None:
    assert _most_in_flight(None, 4) == 4, "without the shared budget each worker has its own 2"
    assert _most_in_flight(postgres_url, 2) == 2


def test_a_run_on_postgres_leaves_no_connection_open(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    """A worker runs job after job in one process: each run's shared budget (and every other database
    handle) must be closed when the run ends, or the connections pile up."""
    import psycopg

    configure_home(tmp_path, openai_stub, monkeypatch)
    monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
    assert run_cli("--date", "2026-02-18", "--no-push", "--no-fulltext", "-q").exit_code == 0
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        # A closed connection's backend exits a moment after the client went (slower on a busy machine);
        # one this process still holds never does: look until none is left, for at most 15 s.
        deadline = time.monotonic() + 15
        while True:
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            if others == (0,) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        held = conn.execute("SELECT count(*) FROM ribao_provider_slots").fetchone()
    assert held == (0,), "a slot stays held until its lease expires: the next job waits for it"
    assert others == (0,), "the run left database connections open"
