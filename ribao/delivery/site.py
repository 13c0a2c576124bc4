"""`ribao site build`: a static archive of every digest (index by date, day pages, search, Atom feed).

The folder is deployable to GitHub Pages as it is: plain files, relative links, `.nojekyll`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ribao.delivery.page import environment, render_page
from ribao.delivery.sitedir import check_out, staged
from ribao.errors import SiteError
from ribao.record import DigestPaths, DigestRecord, read_record

ATOM = "http://www.w3.org/2005/Atom"


@dataclass
class SiteResult:
    """What `build_site` wrote: the folder, the days and the number of search entries."""

    out: Path
    days: list[str]
    entries: int
    runs: int = 0


def read_records(paths: Sequence[Path]) -> list[DigestRecord]:
    """Return the records of the digests `paths` (`<date>.json` files), newest first.

    Raises `SiteError` for no digest or an unreadable record (file named).
    """
    records = []
    for path in paths:
        try:
            records.append(read_record(path))
        except (OSError, ValueError) as exc:
            raise SiteError(f"cannot read digest {path}: {exc}") from exc
    if not records:
        raise SiteError("no digests to build the site from")
    return sorted(records, key=lambda r: r.date, reverse=True)


def search_entries(records: list[DigestRecord]) -> list[dict[str, Any]]:
    """Return one search entry per pick: date, rank, title, reason and a lower-cased text to match."""
    entries = []
    for r in records:
        for p in r.picks:
            texts = [p.title, p.reason, *(v for v in p.summary.model_dump().values() if v)]
            entries.append(
                {
                    "date": r.date.isoformat(),
                    "rank": p.rank,
                    "title": p.title,
                    "reason": p.reason,
                    "text": " ".join(texts).lower(),
                }
            )
    return entries


def atom_feed(records: list[DigestRecord], site_url: str | None) -> bytes:
    """Return an Atom feed with one entry per digest (newest first); links absolute with `site_url`."""
    base = (site_url or "").rstrip("/")
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "ArXiv AI 日报"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = base + "/" if base else "urn:ribao:digests"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = f"{records[0].date.isoformat()}T00:00:00Z"
    ET.SubElement(feed, f"{{{ATOM}}}link", href=f"{base}/feed.xml" if base else "feed.xml", rel="self")
    for r in records:
        day, page = r.date.isoformat(), DigestPaths.of(Path(), r.date).html.name
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"ArXiv AI 日报 {day}"
        ET.SubElement(entry, f"{{{ATOM}}}link", href=f"{base}/{page}" if base else page)
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:ribao:digest:{day}"
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = f"{day}T00:00:00Z"
        ET.SubElement(entry, f"{{{ATOM}}}author").append(_name("ribao"))
        titles = "; ".join(f"{p.rank}. {p.title}" for p in r.picks)
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = titles
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _name(text: str) -> ET.Element:
    el = ET.Element(f"{{{ATOM}}}name")
    el.text = text
    return el


def build_site(
    paths: Sequence[Path],
    out: Path,
    *,
    site_url: str | None = None,
    protect: Sequence[tuple[str, Path]] = (),
    force: bool = False,
    run_pages: Callable[[list[DigestRecord]], Mapping[str, str]] | None = None,
) -> SiteResult:
    """Write the archive of the digests `paths` to `out`, built beside it and swapped in (`sitedir`).

    `run_pages` returns, for the digests read, the page of each run behind them (run id → HTML):
    written to `runs/<run id>.html` and linked from the day page.

    `protect` names folders `out` must not be, hold or sit in; the digests' folders are added.
    Raises `SiteError`, `SiteFolderError` (a refused `out`, exit 2) or `SiteWriteError` (old site kept).
    """
    records = read_records(paths)
    target = check_out(out, [*protect, *(("digests folder", p.parent) for p in paths)], force=force)
    pages = dict(run_pages(records)) if run_pages else {}
    with staged(target) as tmp:
        days, entries = write_site(tmp, records, site_url, pages)
    return SiteResult(out=out, days=days, entries=entries, runs=len(pages))


def day_entry(record: DigestRecord) -> dict[str, Any]:
    """Return the index's line for one digest: date, weekday, counts and the first pick's title."""
    first = record.picks[0].title if record.picks else ""
    return {"date": record.date.isoformat(), "weekday": record.weekday, "picked": record.picked,
            "scanned": record.scanned, "first_title": first}  # fmt: skip


def write_site(
    tmp: Path, records: list[DigestRecord], site_url: str | None, run_pages: Mapping[str, str] | None = None
) -> tuple[list[str], int]:
    """Write `index.html`, a `<date>.html` per day, `search.json`, `feed.xml` and `.nojekyll` into
    the empty folder `tmp`, and `runs/<run id>.html` for each of `run_pages`; return the days and
    the number of search entries."""
    entries = search_entries(records)
    days = []
    for run_id, html in (run_pages or {}).items():
        (tmp / "runs").mkdir(exist_ok=True)
        (tmp / "runs" / f"{run_id}.html").write_text(html, encoding="utf-8")
    for r in records:
        run_url = f"runs/{r.run_id}.html" if r.run_id in (run_pages or {}) else None
        page = render_page(r, index_url="index.html", run_url=run_url)
        DigestPaths.of(tmp, r.date).html.write_text(page, encoding="utf-8")
        days.append(day_entry(r))
    index = environment().get_template("index.html.j2").render(days=days, entries=entries)
    (tmp / "index.html").write_text(index, encoding="utf-8")
    (tmp / "search.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    (tmp / "feed.xml").write_bytes(atom_feed(records, site_url))
    (tmp / ".nojekyll").write_text("", encoding="utf-8")
    return [d["date"] for d in days], len(entries)
