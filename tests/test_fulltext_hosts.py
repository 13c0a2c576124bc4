"""A full-text host that cannot be reached is asked once per run; what may heal is retried within a budget."""

from __future__ import annotations

import datetime as dt
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ribao.fulltext.options import FulltextOptions
from ribao.fulltext.reader import FulltextReader
from ribao.schemas import Paper
from tests.support.fulltext_server import FulltextServer

DAY = dt.date(2025, 1, 21)
PICKS = ["2501.11120", "2501.10120", "2004.14974"]


def paper(arxiv_id: str) -> Paper:
    return Paper(
        arxiv_id=arxiv_id, version=1, title="t", title_display="t", abstract="a", primary_category="cs.CL"
    )


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count connection attempts by host: every one starts with a name look-up (the real one is done)."""
    seen: Counter[str] = Counter()
    real = socket.getaddrinfo

    def counting(host: Any, *args: Any, **kw: Any) -> Any:
        seen[str(host)] += 1
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    return seen


def closed_port() -> int:
    """Return a loopback port nothing listens on: bound once, then closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def read_picks(base: str, tmp_path: Path, **opts: Any) -> tuple[list[Any], list[str]]:
    """Read the three picks from `base` with one reader (one run), retries on and no pacing."""
    options = FulltextOptions(
        html_endpoint=f"{base}/html/",
        pdf_endpoint=f"{base}/pdf/",
        source_endpoint=f"{base}/e-print/",
        **{"retries": 2, "backoff_seconds": 0.0, "delay_seconds": 0.0, **opts},
    )
    reader = FulltextReader(options, tmp_path / "cache", DAY)
    lines: list[str] = []
    return [reader.read(paper(i), lines.append) for i in PICKS], lines


@pytest.mark.parametrize(
    ("host", "base", "reason"),
    [
        ("arxiv.invalid", "http://arxiv.invalid", "name not resolved"),  # RFC 6761: NXDOMAIN, offline
        ("127.0.0.1", "http://127.0.0.1:{port}", "connection refused"),
    ],
)
def test_an_unreachable_host_is_asked_once_and_every_pick_says_why(
    host: str, base: str, reason: str, lookups: Counter[str], tmp_path: Path
) -> None:
    texts, lines = read_picks(base.format(port=closed_port()), tmp_path)
    assert lookups[host] == 1  # not 3 tries x 3 sources x 3 picks
    assert [t.used for t in texts] == ["abstract"] * 3
    for text in texts:
        assert [f.kind for f in text.fallbacks] == ["html", "pdf", "latex"]
        assert all(reason in f.error for f in text.fallbacks)
    said = [line for line in lines if "not asked again in this run" in line]
    assert len(said) == 1 and reason in said[0]
    assert not (tmp_path / "cache" / DAY.isoformat()).exists() or not list(
        (tmp_path / "cache" / DAY.isoformat()).glob("*.json")
    )  # the next run asks again


def test_a_server_error_is_still_retried_and_the_next_source_asked(
    fulltext_server: FulltextServer, tmp_path: Path
) -> None:
    fulltext_server.routes["/html/2501.11120v1"] = {"status": 503}
    reader = FulltextReader(FulltextOptions(**fulltext_server.options(retries=2)), tmp_path / "cache", DAY)
    text = reader.read(paper("2501.11120"))
    assert fulltext_server.hits[:4] == ["/html/2501.11120v1"] * 3 + ["/pdf/2501.11120v1"]
    assert "HTTP 503" in text.fallbacks[0].error and "not asked again" not in text.fallbacks[0].error


def test_a_host_down_past_its_retry_budget_is_not_asked_again(
    fulltext_server: FulltextServer, tmp_path: Path
) -> None:
    for i in PICKS:
        for kind in ("html", "pdf", "e-print"):
            fulltext_server.routes[f"/{kind}/{i}v1"] = {"status": 503}
    options = fulltext_server.options(retries=50, backoff_seconds=0.05, retry_seconds=0.5)
    reader = FulltextReader(FulltextOptions(**options), tmp_path / "cache", DAY)
    lines: list[str] = []
    texts = [reader.read(paper(i), lines.append) for i in PICKS]
    assert set(fulltext_server.hits) == {"/html/2501.11120v1"}  # its budget spent on the first source
    assert 1 <= len(fulltext_server.hits) < 50
    assert [t.used for t in texts] == ["abstract"] * 3
    assert all("still failing after" in f.error for t in texts for f in t.fallbacks)
    assert sum("not asked again in this run" in line for line in lines) == 1


def test_a_tls_failure_gives_the_host_up(
    fulltext_server: FulltextServer, lookups: Counter[str], tmp_path: Path
) -> None:
    texts, _ = read_picks(fulltext_server.base.replace("http://", "https://"), tmp_path)  # plain HTTP
    assert lookups["127.0.0.1"] == 1
    assert all("TLS failure" in f.error for t in texts for f in t.fallbacks)


def test_a_source_refused_with_404_is_not_asked_again_that_day(
    fulltext_server: FulltextServer, tmp_path: Path
) -> None:
    fulltext_server.routes["/pdf/2501.10120v1"] = {"status": 503}  # down: asked again by the next run
    for _ in range(2):
        reader = FulltextReader(FulltextOptions(**fulltext_server.options()), tmp_path / "cache", DAY)
        text = reader.read(paper("2501.10120"))
    assert fulltext_server.hits.count("/html/2501.10120v1") == 1
    assert fulltext_server.hits.count("/pdf/2501.10120v1") == 2
    assert text.fallbacks[0].error.endswith("(cached)") and "HTTP 404" in text.fallbacks[0].error
