"""What the listing reader needs to know, in one object derived from the settings once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ribao.sources.session import ApiOptions

#: The categories ribao reads by default: cs.CL, cs.AI and cs.LG.
DEFAULT_CATEGORIES: tuple[str, ...] = ("cs.CL", "cs.AI", "cs.LG")


@dataclass(frozen=True)
class ListingOptions:
    """Where and how to read an announcement day's listing.

    `source` is ``"arxiv"`` or the path of a listing file (JSONL, a saved listing feed, an API Atom
    response); `categories` are arXiv categories; `include_cross_lists` keeps papers whose primary
    category is another; `api` holds arXiv's endpoints, politeness delay, timeouts and retries;
    `holidays` extend arXiv's built-in list; `cache_dir` (``<home>/cache/arxiv``) keeps each day's
    raw responses (None: no cache).
    """

    source: str = "arxiv"
    categories: Sequence[str] = DEFAULT_CATEGORIES
    include_cross_lists: bool = True
    api: ApiOptions = field(default_factory=ApiOptions)
    holidays: Sequence[dt.date] = ()
    cache_dir: Path | None = None
