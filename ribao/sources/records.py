"""Turn raw metadata fields into `Paper`s, then de-duplicate and filter them by category."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from ribao.arxiv_ids import split_id
from ribao.errors import ListingError
from ribao.schemas import Paper
from ribao.sources import normalize, text
from ribao.sources.categories import category_problem


def check_categories(categories: Sequence[str]) -> list[str]:
    """Return the requested categories stripped; raise ListingError if none or one is malformed."""
    cleaned = [c.strip() for c in categories if c.strip()]
    if not cleaned:
        raise ListingError("no arXiv categories requested (expected e.g. cs.CL,cs.AI,cs.LG)")
    for problem in filter(None, map(category_problem, cleaned)):
        raise ListingError(problem)
    return cleaned


def _clean_line(raw: str) -> str:
    """Return one line of paper text: mojibake repaired, `text.clean`ed, whitespace collapsed."""
    return normalize.one_line(text.clean(normalize.repair_mojibake(raw)))


def build_paper(
    *,
    raw_id: str,
    title: str,
    authors: Iterable[str],
    abstract: str,
    categories: Sequence[str],
    primary_category: str | None = None,
    comment: str | None = None,
    version: int | None = None,
    published: dt.datetime | None = None,
    announced: dt.date | None = None,
) -> Paper:
    """Return a normalised `Paper` from one record's raw fields; raise ValueError on unusable ones.

    ``raw_id`` may carry a version (``2602.15799v1``, an abs URL); an explicit ``version`` wins.
    The primary category goes first in ``categories`` (it defaults to the first one listed).
    Every string is passed through `text.clean` (entities decoded; control, bidi, zero-width
    characters removed; lone surrogates replaced). Authors are kept, however many. Raises
    ValueError for an empty title.
    """
    arxiv_id, id_version = split_id(raw_id)
    cats = [c for c in (_clean_line(c) for c in categories if c) if c]
    primary = (primary_category or "").strip() or (cats[0] if cats else "")
    if not primary:
        raise ValueError(f"{arxiv_id} has no category")
    cats = [primary, *(c for c in cats if c != primary)]
    clean_title = _clean_line(title)
    if not clean_title:
        raise ValueError(f"{arxiv_id} has an empty title")
    clean_abstract = normalize.paragraphs(text.clean(normalize.repair_mojibake(abstract)))
    clean_comment = _clean_line(comment) if comment else None
    return Paper(
        arxiv_id=arxiv_id,
        version=version if version is not None else id_version,
        title=clean_title,
        title_display=normalize.title_display(clean_title),
        authors=[name for name in map(_clean_line, authors) if name],
        abstract=clean_abstract,
        categories=cats,
        primary_category=primary,
        comment=clean_comment or None,
        code_url=normalize.extract_code_url(clean_abstract, clean_comment),
        announced=announced,
        published=published.astimezone(dt.UTC) if published else None,
    )


def dedupe(papers: Iterable[Paper]) -> list[Paper]:
    """Return one paper per canonical id, keeping the highest version at the first one's position.

    An unknown version counts lower than any known one; on a tie the first record stays.
    """
    best: dict[str, Paper] = {}
    for paper in papers:
        kept = best.get(paper.arxiv_id)
        if kept is None or (paper.version or 0) > (kept.version or 0):
            best[paper.arxiv_id] = paper
    return list(best.values())


def select(
    papers: Iterable[Paper], categories: Sequence[str], *, include_cross_lists: bool = True
) -> list[Paper]:
    """Return the papers in the requested categories, in their order.

    A paper is in when any of its categories is requested (cross-lists included); with
    ``include_cross_lists=False`` only when its primary category is requested.
    """
    wanted = set(categories)
    if include_cross_lists:
        return [p for p in papers if wanted.intersection(p.categories)]
    return [p for p in papers if p.primary_category in wanted]
