"""GitHub stars (ribao.sources.stars) against a local server faking ``GET /repos/{owner}/{repo}``."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest

from ribao.sources.stars import STARS_FILE, StarsResult, fetch_stars
from tests.support.arxiv import HANG, ReplayServer, Reply

DAY = dt.date(2026, 2, 19)
GAM = "https://github.com/KaaustaaubShankar/GeneticAdditiveModels"
VMI = "https://github.com/chs20/visual-memory-injection"
GONE = "https://github.com/someone/deleted-repo"
TOKEN = "ghp_not-a-real-token-0123456789"


def repo(count: int) -> Reply:
    return Reply(body=json.dumps({"full_name": "x/y", "stargazers_count": count}).encode())


def stars(server: ReplayServer, urls: list[str], cache_dir: Path | None, **kwargs: object) -> StarsResult:
    return fetch_stars(urls, cache_dir=cache_dir, day=DAY, timeout=2, api_url=server.base, **kwargs)  # type: ignore[arg-type]


def test_counts_per_link_with_the_token_sent(server: ReplayServer, tmp_path: Path) -> None:
    server.script = [repo(42), repo(7)]
    result = stars(server, [GAM, VMI, GAM, "https://gitlab.com/a/b"], tmp_path, token=TOKEN)
    assert result.stars == {GAM: 42, VMI: 7, "https://gitlab.com/a/b": None}
    assert result.errors == {"https://gitlab.com/a/b": "not a https://github.com/<owner>/<repo> link"}
    assert [s.path for s in server.seen] == [
        "/repos/KaaustaaubShankar/GeneticAdditiveModels",
        "/repos/chs20/visual-memory-injection",
    ]
    assert server.seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert server.seen[0].headers["Accept"] == "application/vnd.github+json"
    assert TOKEN not in (tmp_path / DAY.isoformat() / STARS_FILE).read_text(encoding="utf-8")


def test_stars_are_cached_per_day_and_refreshed_on_request(server: ReplayServer, tmp_path: Path) -> None:
    server.script = [repo(42), Reply(status=404, body=b'{"message": "Not Found"}')]
    first = stars(server, [GAM, GONE], tmp_path)
    assert first.stars == {GAM: 42, GONE: None}
    assert first.errors[GONE].startswith("repository not found")
    assert "Authorization" not in server.seen[0].headers  # no token, no header
    server.seen.clear()
    assert stars(server, [GAM, GONE], tmp_path) == first
    assert server.seen == []
    server.script = [repo(43), repo(1)]
    assert stars(server, [GAM, GONE], tmp_path, refresh=True).stars == {GAM: 43, GONE: 1}
    assert len(server.seen) == 2
    # Another day has its own cache.
    other = fetch_stars(
        [GAM], cache_dir=tmp_path, day=DAY + dt.timedelta(days=1), timeout=2, api_url=server.base
    )
    assert other.stars == {GAM: 1} and len(server.seen) == 3


def test_rate_limit_stops_asking_and_says_why(server: ReplayServer, tmp_path: Path) -> None:
    reset = int(dt.datetime(2026, 2, 19, 14, 5, tzinfo=dt.UTC).timestamp())
    limited = Reply(
        status=403,
        body=b'{"message": "API rate limit exceeded for 127.0.0.1."}',
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    server.script = [repo(5), limited]
    result = stars(server, [GAM, VMI, GONE], tmp_path)
    assert result.stars == {GAM: 5, VMI: None, GONE: None}
    reason = "GitHub API rate limit reached, resets at 14:05 UTC; a token raises the limit"
    assert result.errors == {VMI: reason, GONE: reason}
    assert len(server.seen) == 2  # GONE was not asked
    assert result.summary() == f"no stars for 2 of 3 links: {reason} (2)"
    # Only the count is cached: the rate-limited links are asked again next time.
    server.script = [repo(8), repo(9)]
    assert stars(server, [GAM, VMI, GONE], tmp_path).stars == {GAM: 5, VMI: 8, GONE: 9}


def closed_port() -> int:
    """Return a loopback port nobody listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("api_url", "cause"),
    [
        (f"http://127.0.0.1:{closed_port()}", "connection refused"),
        ("http://api.github.invalid", "DNS lookup failed"),
    ],
    ids=["closed-port", "no-such-host"],  # stable ids: the port differs per process
)
def test_an_unreachable_endpoint_gives_none_for_all_and_never_raises(
    tmp_path: Path, api_url: str, cause: str
) -> None:
    result = fetch_stars([GAM, VMI], cache_dir=tmp_path, day=DAY, timeout=2, api_url=api_url)
    assert result.stars == {GAM: None, VMI: None}
    assert set(result.errors.values()) == {f"GitHub API at {api_url} unreachable ({cause})"}
    assert list(tmp_path.iterdir()) == []  # nothing cached


def test_a_silent_endpoint_costs_one_timeout(server: ReplayServer) -> None:
    server.script = [HANG]
    result = fetch_stars([GAM, VMI], cache_dir=None, day=DAY, timeout=0.3, api_url=server.base)
    assert result.stars == {GAM: None, VMI: None}
    assert result.errors[VMI] == f"GitHub API at {server.base} did not answer within 0.3 s"
    assert len(server.seen) == 1


def test_odd_answers_are_reasons_not_errors(server: ReplayServer) -> None:
    server.script = [Reply(body=b"<html>not json</html>"), Reply(status=401, body=b"{}")]
    result = stars(server, [GAM, VMI], None, token="bad")
    assert result.errors == {
        GAM: "GitHub API answer has no stargazers_count",
        VMI: "GitHub rejected the token (HTTP 401)",
    }
    assert StarsResult({GAM: 1}).summary() is None
