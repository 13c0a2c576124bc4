"""The written digest as one typed record (`<out>/<date>.json`) and the rules its renderings share (a leaf).

The editor builds a `DigestRecord` once; the Markdown, the JSON (its serialisation), the HTML page,
the push channels' cards and the site all render from it, and `read_record` reads a written JSON
back through it (digests written by earlier versions included).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field, ValidationError, model_validator

from ribao.ledger import money
from ribao.schemas import Critique, PickText, RubricScores, SourceRecord, Tier

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
SOURCE_MARKS = {"html": "HTML 全文", "pdf": "PDF 全文", "latex": "LaTeX 全文", "abstract": "仅摘要"}
_PUNCTUATION_ONLY = re.compile(r"^[\W_]+$")


def weekday_zh(day: dt.date) -> str:
    """Return the Chinese weekday of `day` (``周三``)."""
    return WEEKDAYS_ZH[day.weekday()]


def authors_short(authors: list[str], limit: int = 3) -> str:
    """Return the first `limit` real author names (punctuation-only entries skipped), then 等."""
    names = [a.strip() for a in authors if a.strip() and not _PUNCTUATION_ONLY.match(a.strip())]
    shown = ", ".join(names[:limit])
    return f"{shown} 等" if len(names) > limit else shown


def source_mark(source: SourceRecord | None) -> str | None:
    """Return the small mark of what the writer read (``PDF 全文（节选）``, ``仅摘要`` …), None if unknown."""
    if source is None:
        return None
    mark = SOURCE_MARKS.get(source.used, source.used)
    return f"{mark}（节选）" if source.used != "abstract" and source.cut else mark


class DigestPaths(NamedTuple):
    """The files of one written digest: `<out>/<date>.md`, `.json` and `.html`."""

    markdown: Path
    json: Path
    html: Path

    @classmethod
    def of(cls, out_dir: Path, date: dt.date | str) -> DigestPaths:
        """Return the paths of the digest of `date` (a date or ``YYYY-MM-DD``) in `out_dir`."""
        stem = date if isinstance(date, str) else date.isoformat()
        return cls(out_dir / f"{stem}.md", out_dir / f"{stem}.json", out_dir / f"{stem}.html")


class PickVerdict(BaseModel):
    """The critic's decision on one pick in one round."""

    round: int
    verdict: Literal["accept", "revise"]
    decision: Literal["keep", "replace"]
    reason: str
    replacement: str | None = None


class DigestPick(BaseModel):
    """One featured paper as written: its rank and tier, the paper's metadata, the text and the checks.

    `title` is for people (LaTeX rendered), `title_original` the source's; `stars` is the GitHub star
    count of `code_url` when it was looked up (absent from the JSON when unknown).
    """

    arxiv_id: str = Field(description="Canonical arXiv id")
    version: int | None = None
    rank: int = Field(ge=1, description="1-based over the whole digest, must-reads first")
    tier: Tier
    title: str
    title_original: str = ""
    authors: list[str] = Field(default_factory=list)
    primary_category: str
    abs_url: str
    code_url: str | None = None
    stars: int | None = None
    reason: str = ""
    scores: RubricScores
    triage_score: int
    summary: PickText
    source: SourceRecord | None = Field(default=None, description="The text the writer saw")
    critic: list[PickVerdict] = Field(default_factory=list)
    relevance: float | None = Field(default=None, description="Relevance to the profile, [0, 1]")
    why: list[str] = Field(default_factory=list, description="Why this reader gets it (Chinese)")

    @model_validator(mode="before")
    @classmethod
    def _older_fields(cls, data: Any) -> Any:
        # Digests written before `title_original` existed had only the display title.
        if isinstance(data, dict) and "title_original" not in data and "title" in data:
            data = {**data, "title_original": data["title"]}
        return data

    @property
    def authors_short(self) -> str:
        """Return the authors as every rendering shows them (``A, B, C 等``)."""
        return authors_short(self.authors)

    @property
    def source_mark(self) -> str | None:
        """Return the mark of what the writer read, as every rendering shows it."""
        return source_mark(self.source)


class AgentUsage(BaseModel):
    """One agent's calls and tokens in the run."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class DigestUsage(BaseModel):
    """Tokens and cost of every recorded call of the run; `cost` is None when a price was unknown."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float | None = None
    currency: str | None = None
    by_agent: dict[str, AgentUsage] = Field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @property
    def cost_text(self) -> str:
        """Return the header's cost: ``¥0.0300``, or the unknown-cost label."""
        return money(self.cost, self.currency)


class DigestRecord(BaseModel):
    """A written digest: the day, the run, the counts, the lead, the picks by rank, critiques and usage.

    `scanned` is the number of candidates the screener saw; `wanted` the picks asked for
    (must-read + notable), so a shorter digest says so; `profile` names the reader it was picked for
    and `floor` the least relevance a pick needed (None without a profile).
    """

    date: dt.date = Field(description="Announcement day")
    run_id: str = ""
    categories: list[str] = Field(default_factory=list)
    scanned: int
    picked: int = 0
    wanted: int = 0
    lead: str | None = None
    picks: list[DigestPick]
    critiques: list[Critique] = Field(default_factory=list)
    usage: DigestUsage = Field(default_factory=DigestUsage)
    profile: str | None = None
    floor: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _counts(cls, data: Any) -> Any:
        # Digests written before `picked`/`wanted` existed were always as long as asked.
        if isinstance(data, dict) and isinstance(data.get("picks"), list):
            n = len(data["picks"])
            data = {**data, "picked": data.get("picked", n), "wanted": data.get("wanted", n)}
        return data

    @model_validator(mode="after")
    def _by_rank(self) -> DigestRecord:
        self.picks.sort(key=lambda p: p.rank)
        return self

    @property
    def weekday(self) -> str:
        """Return the day's Chinese weekday (``周三``)."""
        return weekday_zh(self.date)

    @property
    def title(self) -> str:
        """Return the digest's title: ``ArXiv AI 日报 2026-02-18 周三``."""
        return f"ArXiv AI 日报 {self.date.isoformat()} {self.weekday}"

    @property
    def must_reads(self) -> list[DigestPick]:
        """Return the must-read picks, by rank."""
        return [p for p in self.picks if p.tier == "must_read"]

    @property
    def notables(self) -> list[DigestPick]:
        """Return the notable picks, by rank."""
        return [p for p in self.picks if p.tier == "notable"]

    def to_json(self) -> str:
        """Return `<date>.json`: indented UTF-8 JSON, fields in declaration order, unknown stars left out."""
        data = self.model_dump(mode="json")
        for key in ("profile", "floor"):  # a digest without a profile reads as before
            if data[key] is None:
                del data[key]
        for pick in data["picks"]:
            for key, empty in (("stars", None), ("relevance", None), ("why", [])):
                if pick[key] == empty:
                    del pick[key]
            pick["summary"] = {k: v for k, v in pick["summary"].items() if v is not None}
        # json.dumps, not pydantic's serialiser, so amounts are written as before (``1e-05``, not ``1e-5``).
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def read_record(path: Path) -> DigestRecord:
    """Read a written `<date>.json` through the record.

    Raises `OSError` when it cannot be read, `ValueError` (one line: the field and the problem) when
    it is not a digest record.
    """
    try:
        return DigestRecord.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"]) or "record"
        raise ValueError(f"{where}: {err['msg']}") from None
