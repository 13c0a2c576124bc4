"""Read one picked paper's full text: HTML, then PDF, then LaTeX e-print, else the abstract, loudly."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ribao.errors import FulltextError, HostUnreachable, SourceMissing
from ribao.fulltext.cache import FulltextCache
from ribao.fulltext.document import KINDS, Kind, PaperText
from ribao.fulltext.fetch import LABELS, FulltextSession, source_url
from ribao.fulltext.options import FulltextOptions
from ribao.fulltext.sandbox import ExtractionFailed, extract_in_subprocess
from ribao.schemas import Fallback, Paper

Say = Callable[[str], None]


class FulltextReader:
    """Fetch, cache and extract the full text of picks of one announcement day.

    `read(paper)` never raises for a bad source: each failure is a `Fallback` in the result and a
    line through `say`; a paper whose every source fails comes back with ``used == "abstract"``.
    A result already in the day's cache is returned without any request or extraction; with
    `cache_only` (an experiment's replays) nothing is downloaded: a source not in the cache fails.
    """

    def __init__(
        self,
        options: FulltextOptions,
        cache_root: Path,
        day: dt.date,
        *,
        extract: Callable[..., Any] = extract_in_subprocess,
        cache_only: bool = False,
    ) -> None:
        self.options = options
        self.cache_only = cache_only
        self.extract = extract
        self.cache = FulltextCache(cache_root, day)
        self._session: FulltextSession | None = None

    @property
    def session(self) -> FulltextSession:
        if self._session is None:
            self._session = FulltextSession(self.options)
        return self._session

    def _raw(self, stem: str, kind: Kind, url: str) -> Path:
        """Return the cached raw file of one source, downloading it first if needed."""
        path = self.cache.raw_path(stem, kind)
        if path.is_file():
            return path
        refused = self.cache.missing(stem, kind)
        if refused is not None:
            raise SourceMissing(f"{refused} (cached)")
        if self.cache_only:
            raise SourceMissing("not in the full-text cache (replays do not ask arXiv)")
        try:
            data = self.session.download(kind, url)
        except SourceMissing as exc:
            self.cache.put_missing(stem, kind, str(exc))
            raise
        return self.cache.put_raw(stem, kind, data)

    def read(self, paper: Paper, say: Say = lambda _: None) -> PaperText:
        """Return what could be read of `paper` (see the class doc); `say` receives one line per step."""
        stem = self.cache.stem(paper.arxiv_id, paper.version)
        cached = self.cache.result(stem)
        if cached is not None:
            say(f"{paper.arxiv_id}: {cached.used} from the cache ({len(cached.sections)} sections)")
            return cached
        fallbacks: list[Fallback] = []
        transient = False
        for kind in KINDS:
            url = source_url(self.options, kind, paper.arxiv_id, paper.version)
            started = time.perf_counter()
            try:
                path = self._raw(stem, kind, url)
                sections, hidden, skipped = self.extract(
                    kind,
                    path,
                    seconds=self.options.extract_seconds,
                    memory_mb=self.options.extract_memory_mb,
                    unpacked_limit=self.options.max_unpacked_bytes,
                )
            except (FulltextError, ExtractionFailed) as exc:
                transient = transient or getattr(exc, "transient", False)
                fallbacks.append(Fallback(kind=kind, url=url, error=str(exc)))
                if isinstance(exc, HostUnreachable):
                    if exc.asked:  # once per host and run; its other sources are skipped silently
                        say(f"{paper.arxiv_id}: {LABELS[kind]} failed ({exc})")
                    continue
                nxt = KINDS.index(kind) + 1
                then = LABELS[KINDS[nxt]] if nxt < len(KINDS) else "the abstract"
                say(f"{paper.arxiv_id}: {LABELS[kind]} failed ({exc}); trying {then}")
                continue
            for member in skipped:
                say(f"{paper.arxiv_id}: e-print member skipped: {member}")
            result = PaperText(
                arxiv_id=paper.arxiv_id,
                version=paper.version,
                used=kind,
                url=url,
                sections=sections,
                fallbacks=fallbacks,
                hidden_dropped=hidden,
                extract_seconds=round(time.perf_counter() - started, 3),
            )
            say(
                f"{paper.arxiv_id}: {LABELS[kind]} → {len(sections)} sections, "
                f"{sum(len(s.text) for s in sections):,} characters"
                + (f", {hidden} hidden element(s) dropped" if hidden else "")
            )
            self.cache.put_result(stem, result)
            return result
        result = PaperText(arxiv_id=paper.arxiv_id, version=paper.version, fallbacks=fallbacks)
        say(f"{paper.arxiv_id}: no full text; the writer uses the abstract")
        # A source that was only down is asked again by the next run; a replay's cache-only miss
        # must not hide the paper's full text from later runs either.
        if not transient and not self.cache_only:
            self.cache.put_result(stem, result)
        return result
