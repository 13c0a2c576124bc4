"""Seed papers: arXiv ids → title and abstract, from what is already on disk, else one polite API request.

Looked up in order: the seed cache `<home>/cache/profiles/seeds.json`, the listings bundled with ribao
(`ribao/data/**/*.jsonl`), the day listings cached under `<home>/cache/arxiv`, and last the arXiv API's
`id_list` query through ribao's `ApiSession` (timeouts, retries, the delay between requests); what the
API returns is added to the seed cache, so each id is requested once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ribao.arxiv_ids import canonical_id
from ribao.errors import ListingError, ListingUnavailable
from ribao.files import write_file
from ribao.profiles.resolve import ProfilePaper
from ribao.settings_models import ApiOptions
from ribao.sources.files import parse_listing


@dataclass
class SeedLookup:
    """What became of a profile's seed ids: the papers found, the ids not found and why."""

    papers: list[ProfilePaper] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: str | None = None


def seed_cache(home: Path) -> Path:
    """Return the seed cache file under the home folder."""
    return home / "cache" / "profiles" / "seeds.json"


def bundled_listings() -> list[Path]:
    """Return the JSONL listings shipped in the package (the demo's day, the example profile's seeds)."""
    root = Path(str(resources.files("ribao") / "data"))
    return sorted(root.rglob("*.jsonl"))


def _from_files(paths: Iterable[Path], wanted: set[str]) -> dict[str, ProfilePaper]:
    """Return the wanted papers found in listing files (JSONL or Atom); unreadable files are skipped."""
    found: dict[str, ProfilePaper] = {}
    for path in paths:
        if not wanted - found.keys():
            break
        try:
            content = path.read_bytes()
        except OSError:
            continue
        if not any(i.encode() in content for i in wanted - found.keys()):
            continue  # most files hold none of the ids: skip the parse
        try:
            papers = parse_listing(content, str(path)).papers
        except ListingError:
            continue
        for p in papers:
            if p.arxiv_id in wanted:
                found.setdefault(p.arxiv_id, ProfilePaper(p.arxiv_id, p.title, p.abstract, None))
    return found


def _read_cache(path: Path) -> dict[str, ProfilePaper]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {i: ProfilePaper(i, d["title"], d["abstract"], None) for i, d in data.items() if "title" in d}


def _write_cache(path: Path, papers: dict[str, ProfilePaper]) -> None:
    data = {i: {"title": p.title, "abstract": p.abstract} for i, p in sorted(papers.items())}
    write_file(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def fetch_ids(ids: Sequence[str], api: ApiOptions) -> dict[str, ProfilePaper]:
    """Ask the arXiv API for `ids` in one `id_list` query; raises `ListingUnavailable` or `ListingError`."""
    import arxiv

    from ribao.sources.api import make_client

    search = arxiv.Search(id_list=list(ids), max_results=len(ids))
    client = make_client(api, page_size=len(ids))
    try:
        results = list(client.results(search))
    except arxiv.ArxivError as err:
        raise ListingUnavailable(f"arXiv API at {api.endpoint}: {err}") from err
    papers = {}
    for r in results:
        pid = canonical_id(r.entry_id.rsplit("/abs/", 1)[-1])
        papers[pid] = ProfilePaper(pid, " ".join(r.title.split()), " ".join(r.summary.split()), None)
    return papers


def resolve_seeds(
    ids: Sequence[str], *, home: Path, api: ApiOptions, bundled: Sequence[Path] | None = None
) -> SeedLookup:
    """Return the seed papers of `ids` (canonical, in the given order), reading the API only for ids found
    nowhere on disk; an API failure leaves those ids missing, with the error, rather than failing the run."""
    wanted = list(dict.fromkeys(canonical_id(i) for i in ids))
    cache_path = seed_cache(home)
    cached = _read_cache(cache_path)
    found = {i: cached[i] for i in wanted if i in cached}
    rest = set(wanted) - found.keys()
    if rest:
        found |= _from_files(bundled_listings() if bundled is None else bundled, rest)
    rest = set(wanted) - found.keys()
    if rest:
        found |= _from_files(sorted((home / "cache" / "arxiv").rglob("*.xml")), rest)
    rest = set(wanted) - found.keys()
    error = None
    if rest:
        try:
            fetched = fetch_ids(sorted(rest), api)
        except (ListingUnavailable, ListingError) as err:
            error = str(err)
        else:
            found |= fetched
            _write_cache(cache_path, cached | fetched)
    return SeedLookup(
        papers=[found[i] for i in wanted if i in found],
        missing=[i for i in wanted if i not in found],
        error=error,
    )
