"""References for the metrics: Hugging Face Daily Papers (fetched), and hand-labelled grades (imported).

Stored under `<home>/evals/refs/`: `hf/<featured day>.json` (one file per day Hugging Face
featured papers on: each paper's upvotes and when they were read) and `labels.json` (arXiv id →
grade 0-3, merged over imports). A listing day's papers are featured on that day and up to
`HF_WINDOW_DAYS` days after, so its reference is the union of those featured days.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import requests
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from ribao.arxiv_ids import canonical_id
from ribao.errors import EvalError
from ribao.evals.metrics import Reference, upvote_gain
from ribao.files import write_file
from ribao.http_faults import RETRY_STATUSES

#: Days after the announcement day on which its papers may still be featured (README of the data).
HF_WINDOW_DAYS = 5


class FeaturedPaper(BaseModel):
    """One paper Hugging Face featured on a day: its upvotes when read (`read_at`, UTC)."""

    arxiv_id: str
    title: str = ""
    upvotes: int = 0
    read_at: dt.datetime


class FeaturedDay(BaseModel):
    """The papers Hugging Face featured on `date`, as read from `endpoint` at `read_at`."""

    date: dt.date
    endpoint: str
    read_at: dt.datetime
    papers: list[FeaturedPaper]


def refs_dir(home: Path) -> Path:
    """Return the references folder, `<home>/evals/refs`."""
    return home / "evals" / "refs"


def featured_days(day: dt.date) -> list[dt.date]:
    """Return the days a listing day's papers can be featured on: that day and `HF_WINDOW_DAYS` after."""
    return [day + dt.timedelta(days=n) for n in range(HF_WINDOW_DAYS + 1)]


class _Retryable(Exception):
    """A status worth asking again (429, 5xx, ...), private to the fetch."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_Retryable, requests.ConnectionError, requests.Timeout))


def _unreachable(exc: BaseException) -> bool:
    """True when the endpoint could not be reached at all (no network, unknown host, refused)."""
    return isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout)


class ArchivedPaper(BaseModel):
    """One featured paper as the public archive keeps it (``paper_id``, ``upvotes``, ``fetched_at``)."""

    paper_id: str
    title: str = ""
    upvotes: int = 0
    fetched_at: dt.datetime


class ArchivedDay(BaseModel):
    """One featured day as the public archive keeps it (Misaki-Wang/hf_bot, `data/dates/<D>.json`)."""

    date: dt.date
    source: str = ""
    papers: list[ArchivedPaper]


def read_archived(folder: Path, day: dt.date) -> FeaturedDay | None:
    """Return featured day `day` from `folder/<day>.json`, None when there is no such file.

    The file is a day as the public archive keeps it (the shape of `ArchivedDay`, as in
    `../shared/data/reference/hf-daily/`) or as ribao stores it (`FeaturedDay`, `<home>/evals/refs/hf/`).
    Raises `EvalError` naming a file of neither shape.
    """
    path = folder / f"{day}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    try:
        archived = ArchivedDay.model_validate_json(text)
    except ValidationError as exc:
        try:
            return FeaturedDay.model_validate_json(text)
        except ValidationError:
            raise EvalError(f"{path}: not a Daily Papers day: {str(exc).splitlines()[0]}") from None
    papers = [
        FeaturedPaper(
            arxiv_id=canonical_id(p.paper_id), title=p.title, upvotes=p.upvotes, read_at=p.fetched_at
        )
        for p in archived.papers
    ]
    read_at = max((p.read_at for p in papers), default=dt.datetime.combine(day, dt.time(), dt.UTC))
    return FeaturedDay(date=day, endpoint=str(path), read_at=read_at, papers=papers)


def read_featured(endpoint: str, day: dt.date, *, timeout: float = 20.0, attempts: int = 3) -> FeaturedDay:
    """GET `endpoint?date=D` (retrying timeouts, refused connections and 429/5xx) and return the day.

    The answer is a JSON list, one item per featured paper with the paper under ``paper`` (``id``
    = arXiv id without version, ``upvotes``, ``title``). Raises `EvalError` naming the endpoint.
    """

    def get() -> requests.Response:
        response = requests.get(endpoint, params={"date": day.isoformat()}, timeout=timeout)
        if response.status_code in RETRY_STATUSES:
            raise _Retryable(f"HTTP {response.status_code}")
        return response

    retrying = Retrying(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.5, max=4),
        reraise=True,
    )
    try:
        response = retrying(get)
    except (requests.RequestException, _Retryable) as exc:
        offline = "; offline, read saved days with --archive DIR" if _unreachable(exc) else ""
        raise EvalError(f"{endpoint} failed for {day}: {exc}{offline}") from exc
    read_at = dt.datetime.now(dt.UTC)
    if response.status_code != 200:
        raise EvalError(f"{endpoint} answered HTTP {response.status_code} for {day}")
    try:
        items = response.json()
        papers = [
            FeaturedPaper(
                arxiv_id=canonical_id(str(item["paper"]["id"])),
                title=str(item["paper"].get("title") or item.get("title") or ""),
                upvotes=int(item["paper"].get("upvotes") or 0),
                read_at=read_at,
            )
            for item in items
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise EvalError(f"{endpoint} gave an unexpected answer for {day}: {exc!r}") from exc
    return FeaturedDay(date=day, endpoint=endpoint, read_at=read_at, papers=papers)


def fetch_refs(
    home: Path,
    endpoint: str,
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date | None = None,
    archive: Path | None = None,
) -> list[FeaturedDay]:
    """Read and store the featured days of the listing days `start`..`end` (days after `today` are
    not asked: nothing is featured yet); return them in date order. From `archive` (a folder of saved
    days, `read_archived`) instead of `endpoint`, the days it lacks are left out. Raises `EvalError`,
    also when `archive` has none of the days."""
    if end < start:
        raise EvalError(f"--to {end} is before --from {start}")
    today = today or dt.datetime.now(dt.UTC).date()
    wanted = sorted(
        {d for n in range((end - start).days + 1) for d in featured_days(start + dt.timedelta(n))}
    )
    found = []
    for day in (d for d in wanted if d <= today):
        featured = read_featured(endpoint, day) if archive is None else read_archived(archive, day)
        if featured is None:
            continue
        write_file(refs_dir(home) / "hf" / f"{day}.json", featured.model_dump_json(indent=1) + "\n")
        found.append(featured)
    if archive is not None and not found:
        raise EvalError(f"{archive} has no featured day {wanted[0]}.json … {wanted[-1]}.json")
    return found


def load_featured(home: Path, day: dt.date) -> FeaturedDay | None:
    """Return the stored featured day `day`, None when it was not fetched."""
    path = refs_dir(home) / "hf" / f"{day}.json"
    try:
        return FeaturedDay.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValidationError) as exc:
        raise EvalError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc


def hf_reference(home: Path, day: dt.date) -> tuple[Reference, list[dt.date]]:
    """Return listing day `day`'s Hugging Face reference (gain `upvote_gain` of the most upvotes a
    paper had on any of its featured days) and the featured days not fetched.

    Raises `EvalError` when none of its featured days was fetched.
    """
    upvotes: dict[str, int] = {}
    missing = []
    for featured_day in featured_days(day):
        featured = load_featured(home, featured_day)
        if featured is None:
            missing.append(featured_day)
            continue
        for paper in featured.papers:
            upvotes[paper.arxiv_id] = max(upvotes.get(paper.arxiv_id, 0), paper.upvotes)
    if len(missing) == HF_WINDOW_DAYS + 1:
        raise EvalError(
            f"no Hugging Face reference for {day}: run `ribao eval refs fetch --from {day} --to {day}`"
            " (offline: add --archive DIR, a folder of saved days)"
        )
    gains = {pid: upvote_gain(n) for pid, n in upvotes.items()}
    return Reference(gains=gains, source=f"hf {day}..{featured_days(day)[-1]}"), missing


def labels_file(home: Path) -> Path:
    """Return the imported grades' file, `<home>/evals/refs/labels.json`."""
    return refs_dir(home) / "labels.json"


def read_labels_csv(path: Path) -> dict[str, int]:
    """Read a CSV of ``arxiv_id,grade`` lines (grade 0-3; a header line is allowed; a later line for
    the same paper wins). Raises `EvalError` naming the file and line of the first bad one."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    grades: dict[str, int] = {}
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if n == 1 and [c.strip().lower() for c in row] == ["arxiv_id", "grade"]:
            continue
        if len(row) != 2:
            raise EvalError(f"{path}:{n}: expected `arxiv_id,grade`, got {len(row)} fields")
        raw_id, raw_grade = (c.strip() for c in row)
        try:
            pid = canonical_id(raw_id)
        except ValueError:
            raise EvalError(f"{path}:{n}: {raw_id!r} is not an arXiv id") from None
        if raw_grade not in {"0", "1", "2", "3"}:
            raise EvalError(f"{path}:{n}: grade {raw_grade!r} is not 0, 1, 2 or 3")
        grades[pid] = int(raw_grade)
    if not grades:
        raise EvalError(f"{path} holds no `arxiv_id,grade` line")
    return grades


def import_labels(home: Path, path: Path) -> dict[str, int]:
    """Merge the grades of CSV `path` into the stored ones (its grades win); return the file's grades."""
    grades = read_labels_csv(path)
    merged = {**load_labels(home), **grades}
    write_file(labels_file(home), json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
    return grades


def load_labels(home: Path) -> dict[str, int]:
    """Return the stored grades (empty when none were imported)."""
    path = labels_file(home)
    try:
        return {str(k): int(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, AttributeError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc


def labels_reference(home: Path) -> Reference:
    """Return the imported grades as a reference (gain = grade; grade ≥ 1 is relevant)."""
    labels = load_labels(home)
    if not labels:
        raise EvalError("no graded papers: import some with `ribao eval refs import FILE`")
    return Reference(gains={pid: float(g) for pid, g in labels.items()}, source="labels")
