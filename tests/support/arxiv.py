"""A loopback server replaying recorded arXiv API and feed responses; the source tests' days and options."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ribao.schemas import Paper
from ribao.sources import ApiOptions
from ribao.sources.api import fetch_api_day
from tests.support.loopback import LoopbackServer

ATOM = Path(__file__).parent.parent / "data" / "atom"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
# 2405.13786v1 was submitted Wed 22 May 2024 12:11 EDT. arXiv's 2024 list defers the evening of
# Wed 22 May, so there is no Thursday 23 May listing and it is in the window of Friday 24 May's
# (Tue 21 14:00 to Thu 23 14:00); the other nine entries were first submitted years earlier or later.
DAY = dt.date(2024, 5, 24)
CATS = ["cs.SE", "cs.AI"]


def fetch_day(*args: Any, **kwargs: Any) -> list[Paper]:
    """The papers of `fetch_api_day` (the product always wants the origin too)."""
    return fetch_api_day(*args, **kwargs).papers


def feed(name: str, total: int | None = None) -> bytes:
    """Return a recorded Atom response, with ``opensearch:totalResults`` rewritten if asked."""
    body = (ATOM / name).read_bytes()
    if total is not None:
        body = re.sub(rb"<opensearch:totalResults>\d+<", b"<opensearch:totalResults>%d<" % total, body)
    return body


PAGE_0 = feed("arxivpy_api_q_testing_s0_m10_bc5a6c384fe9.xml", total=10)
EMPTY = feed("arxivpy_api_id_0000.0000_s0_m100_8b51d9633a68.xml")
ERROR_400 = feed("arxivpy_api_id_abc_s0_m100_b79c8dcf6bc3.xml")
HANG = object()


@dataclass
class Reply:
    status: int = 200
    body: bytes = PAGE_0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    at: float
    query: dict[str, str]
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class ReplayServer:
    """A loopback HTTP server answering each request with the next scripted reply (the last repeats)."""

    def __init__(self) -> None:
        self.script: list[Reply | object] = [Reply()]
        self.seen: list[Seen] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                server.seen.append(Seen(time.monotonic(), query, parts.path, dict(self.headers.items())))
                reply = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if reply is HANG:
                    # Until the test releases it (at the latest when the server stops); the bound is a
                    # guard only: a client that must still be waiting when a slow test acts needs it long.
                    server.release.wait(300)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = LoopbackServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = f"{self.base}/api/query"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def gaps(self) -> list[float]:
        return [b.at - a.at for a, b in zip(self.seen, self.seen[1:], strict=False)]


@contextmanager
def running_server() -> Iterator[ReplayServer]:
    """Run a `ReplayServer` on loopback for the duration of the block (other test modules use it too)."""
    replay = ReplayServer()
    replay.thread.start()
    try:
        yield replay
    finally:
        replay.release.set()
        replay.httpd.shutdown()
        replay.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    """The replay server on loopback for the test's duration (a plugin of conftest: the source tests)."""
    with running_server() as replay:
        yield replay


def options(server: ReplayServer, **overrides: object) -> ApiOptions:
    settings = {
        "endpoint": server.url,
        "rss_endpoint": f"{server.base}/rss",
        "delay_seconds": 0,
        "backoff_seconds": 0.01,
        "timeout_seconds": 5,
    }
    return ApiOptions.model_validate(settings | overrides)
