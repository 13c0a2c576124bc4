"""`ribao site build`: a static archive of every digest (index by date, day pages, search, Atom feed).

The folder is deployable to GitHub Pages as it is: plain files, relative links, `.nojekyll`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import UndefinedError

from ribao.delivery.page import WEEKDAYS_ZH, environment, render_page
from ribao.delivery.sitedir import check_out, staged
from ribao.errors import SiteError

ATOM = "http://www.w3.org/2005/Atom"


@dataclass
class SiteResult:
    """What `build_site` wrote: the folder, the days and the number of search entries."""

    out: Path
    days: list[str]
    entries: int


def read_records(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Return the records of the digests `paths` (`<date>.json` files), newest first.

    Raises `SiteError` for no digest or an unreadable record (file named).
    """
    records = []
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            dt.date.fromisoformat(record["date"])
            record["picks"]  # noqa: B018 - a record without picks is not a digest
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SiteError(f"cannot read digest {path}: {exc}") from exc
        records.append(record)
    if not records:
        raise SiteError("no digests to build the site from")
    return sorted(records, key=lambda r: r["date"], reverse=True)


def search_entries(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one search entry per pick: date, rank, title, reason and a lower-cased text to match."""
    entries = []
    for r in records:
        for p in r["picks"]:
            summary = p.get("summary") or {}
            texts = [
                p["title"],
                p.get("reason") or "",
                *(str(v) for v in summary.values() if isinstance(v, str)),
            ]
            entries.append(
                {
                    "date": r["date"],
                    "rank": p["rank"],
                    "title": p["title"],
                    "reason": p.get("reason") or "",
                    "text": " ".join(texts).lower(),
                }
            )
    return entries


def atom_feed(records: list[dict[str, Any]], site_url: str | None) -> bytes:
    """Return an Atom feed with one entry per digest (newest first); links absolute with `site_url`."""
    base = (site_url or "").rstrip("/")
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "ArXiv AI 日报"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = base + "/" if base else "urn:ribao:digests"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = f"{records[0]['date']}T00:00:00Z"
    ET.SubElement(feed, f"{{{ATOM}}}link", href=f"{base}/feed.xml" if base else "feed.xml", rel="self")
    for r in records:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"ArXiv AI 日报 {r['date']}"
        link = f"{base}/{r['date']}.html" if base else f"{r['date']}.html"
        ET.SubElement(entry, f"{{{ATOM}}}link", href=link)
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:ribao:digest:{r['date']}"
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = f"{r['date']}T00:00:00Z"
        ET.SubElement(entry, f"{{{ATOM}}}author").append(_name("ribao"))
        titles = "; ".join(f"{p['rank']}. {p['title']}" for p in r["picks"])
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
) -> SiteResult:
    """Write the archive of the digests `paths` to `out`, built beside it and swapped in (`sitedir`).

    `protect` names folders `out` must not be, hold or sit in; the digests' folders are added.
    Raises `SiteError`, `SiteFolderError` (a refused `out`, exit 2) or `SiteWriteError` (old site kept).
    """
    records = read_records(paths)
    target = check_out(out, [*protect, *(("digests folder", p.parent) for p in paths)], force=force)
    with staged(target) as tmp:
        days, entries = write_site(tmp, records, site_url)
    return SiteResult(out=out, days=days, entries=entries)


@contextlib.contextmanager
def _malformed(date: str) -> Iterator[None]:
    """Turn a field missing from (or mangled in) the record of `date` into one `SiteError` line: a
    `<date>.json` edited by hand or cut short is named, not met as a traceback."""
    try:
        yield
    except KeyError as exc:
        raise SiteError(
            f"cannot build the page of {date}: its {date}.json has no {exc.args[0]!r} field"
        ) from exc
    except (TypeError, AttributeError, UndefinedError) as exc:
        raise SiteError(f"cannot build the page of {date}: its {date}.json is malformed ({exc})") from exc


def write_site(tmp: Path, records: list[dict[str, Any]], site_url: str | None) -> tuple[list[str], int]:
    """Write `index.html`, a `<date>.html` per day, `search.json`, `feed.xml` and `.nojekyll` into
    the empty folder `tmp`; return the days and the number of search entries."""
    entries: list[dict[str, Any]] = []
    days = []
    for r in records:
        with _malformed(r["date"]):
            page = render_page(r, index_url="index.html")
            entries += search_entries([r])
            first = min(r["picks"], key=lambda p: p["rank"])["title"] if r["picks"] else ""
            day = {"date": r["date"], "weekday": WEEKDAYS_ZH[dt.date.fromisoformat(r["date"]).weekday()],
                   "picked": len(r["picks"]), "scanned": r["scanned"], "first_title": first}  # fmt: skip
        (tmp / f"{r['date']}.html").write_text(page, encoding="utf-8")
        days.append(day)
    index = environment().get_template("index.html.j2").render(days=days, entries=entries)
    (tmp / "index.html").write_text(index, encoding="utf-8")
    (tmp / "search.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    (tmp / "feed.xml").write_bytes(atom_feed(records, site_url))
    (tmp / ".nojekyll").write_text("", encoding="utf-8")
    return [d["date"] for d in days], len(entries)
