"""GitHub stars of the papers' code links: optional, online only, cached per announcement day.

One ``GET {api_url}/repos/{owner}/{repo}`` per repository (``stargazers_count``), with an
optional token (60 requests an hour without one, 5,000 with). Counts, and "not found" for
repositories that are gone, are kept in ``cache_dir/<D>/stars.json`` and not asked again that day.
Nothing here raises for a network problem: a repository without a count maps to None and its
reason is in `StarsResult.errors`. After an endpoint-wide failure (connection refused, DNS,
timeout, rate limit, rejected token, 5xx) no further request is made and every remaining link
gets that reason, so an offline run costs one timeout at most. The token never reaches a reason,
a log line or the cache.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import requests

from ribao.files import write_file

logger = logging.getLogger(__name__)

STARS_FILE = "stars.json"
_REPO_URL_RE = re.compile(
    r"https://github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9_-]*)/(?P<repo>[A-Za-z0-9_.-]+)"
)


@dataclass(frozen=True)
class StarsResult:
    """Stars per code link (None when unknown) and, for each None, the reason."""

    stars: dict[str, int | None] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str | None:
        """Return one line for the trace, e.g. "no stars for 3 of 5 links: …", or None if all are known."""
        if not self.errors:
            return None
        reasons = "; ".join(
            f"{reason} ({count})" if count > 1 else reason
            for reason, count in Counter(self.errors.values()).most_common()
        )
        return f"no stars for {len(self.errors)} of {len(self.stars)} links: {reasons}"


class _Answer(NamedTuple):
    """What the API said about one repository; ``final`` answers may be cached, ``fatal`` ones stop."""

    stars: int | None
    reason: str | None = None
    final: bool = False
    fatal: bool = False


def _rate_limit_reason(response: requests.Response, api_url: str) -> str:
    """Return why GitHub refused (HTTP 403/429): the rate limit and its reset time, if it says so."""
    if response.headers.get("X-RateLimit-Remaining") == "0":
        reset = response.headers.get("X-RateLimit-Reset", "")
        when = ""
        if reset.isdigit():
            when = f", resets at {dt.datetime.fromtimestamp(int(reset), dt.UTC):%H:%M} UTC"
        return f"GitHub API rate limit reached{when}; a token raises the limit"
    return f"GitHub API at {api_url} refused the request (HTTP {response.status_code})"


def _cause(err: requests.RequestException) -> str:
    """Return a short cause of a failed connection: DNS, refused, or the exception's name."""
    text = str(err)
    if "NameResolutionError" in text or "Failed to resolve" in text:
        return "DNS lookup failed"
    if "Connection refused" in text:
        return "connection refused"
    return type(err).__name__


def _ask(session: requests.Session, api_url: str, owner: str, repo: str, timeout: float) -> _Answer:
    """Return the star count of one repository, or why there is none."""
    try:
        response = session.get(f"{api_url}/repos/{owner}/{repo}", timeout=timeout)
    except requests.Timeout:
        return _Answer(None, f"GitHub API at {api_url} did not answer within {timeout:g} s", fatal=True)
    except requests.RequestException as err:
        return _Answer(None, f"GitHub API at {api_url} unreachable ({_cause(err)})", fatal=True)
    status = response.status_code
    if status == 404:
        return _Answer(None, "repository not found (deleted, renamed or private)", final=True)
    if status in (403, 429):
        return _Answer(None, _rate_limit_reason(response, api_url), fatal=True)
    if status == 401:
        return _Answer(None, "GitHub rejected the token (HTTP 401)", fatal=True)
    if status >= 500:
        return _Answer(None, f"GitHub API at {api_url} answered HTTP {status}", fatal=True)
    if status != 200:
        return _Answer(None, f"GitHub API answered HTTP {status}")
    try:
        count = response.json()["stargazers_count"]
    except (ValueError, KeyError, TypeError):
        return _Answer(None, "GitHub API answer has no stargazers_count")
    if not isinstance(count, int) or isinstance(count, bool):
        return _Answer(None, "GitHub API answer has no stargazers_count")
    return _Answer(count, final=True)


def _load(path: Path) -> dict[str, dict[str, Any]]:
    """Return the cached answers by URL, {} when there are none or the file is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        logger.warning("ignoring the unreadable stars cache %s: %s", path, err)
        return {}
    repos = data.get("repos") if isinstance(data, dict) else None
    return {
        url: entry
        for url, entry in (repos if isinstance(repos, dict) else {}).items()
        if isinstance(entry, dict) and (entry.get("stars") is None or type(entry.get("stars")) is int)
    }


def _save(path: Path, day: dt.date, repos: dict[str, dict[str, Any]]) -> None:
    """Write the answers atomically (temp file + rename); a failure is logged, stars being optional."""
    text = json.dumps({"day": day.isoformat(), "repos": repos}, ensure_ascii=False, indent=2) + "\n"
    try:
        write_file(path, text)
    except OSError as err:
        logger.warning("cannot write the stars cache %s: %s", path, err)


def fetch_stars(
    urls: Iterable[str],
    *,
    token: str | None = None,
    cache_dir: Path | None,
    day: dt.date,
    timeout: float = 10.0,
    api_url: str = "https://api.github.com",
    refresh: bool = False,
) -> StarsResult:
    """Return the stars of each ``https://github.com/<owner>/<repo>`` link (None + reason if unknown).

    Answers cached in ``cache_dir/<day>/stars.json`` are reused unless ``refresh``; new counts and
    "not found" answers are added to it. ``timeout`` is in seconds per request. Never raises for
    network errors.
    """
    api_url = api_url.rstrip("/")
    path = cache_dir / day.isoformat() / STARS_FILE if cache_dir is not None else None
    cached = _load(path) if path is not None and not refresh else {}
    fresh: dict[str, dict[str, Any]] = {}
    stars: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    stopped: str | None = None
    with requests.Session() as session:
        session.headers.update({"Accept": "application/vnd.github+json", "User-Agent": "ribao"})
        session.headers["X-GitHub-Api-Version"] = "2022-11-28"
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        for url in dict.fromkeys(urls):
            match = _REPO_URL_RE.fullmatch(url)
            entry = cached.get(url)
            if entry is not None:
                answer = _Answer(entry.get("stars"), entry.get("reason"), final=True)
            elif match is None:
                answer = _Answer(None, "not a https://github.com/<owner>/<repo> link")
            elif stopped is not None:
                answer = _Answer(None, stopped)
            else:
                answer = _ask(session, api_url, match["owner"], match["repo"], timeout)
                if answer.final:
                    fresh[url] = {"stars": answer.stars, "reason": answer.reason}
                if answer.fatal:
                    stopped = answer.reason
                    logger.info("GitHub stars: %s; not asking for the other links", answer.reason)
            stars[url] = answer.stars
            if answer.stars is None:
                errors[url] = answer.reason or "unknown"
    if path is not None and fresh:
        _save(path, day, cached | fresh)
    return StarsResult(stars, errors)
