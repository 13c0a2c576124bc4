"""Data shapes shared by the sources, the agents, the memory and the digest (pydantic models)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Paper(BaseModel):
    """One paper of an announcement day's listing, normalised.

    `arxiv_id` is the canonical id (no `vN` suffix, e.g. ``2602.15763`` or ``hep-th/9901001``);
    `version` is the number that followed it when the source gave one (``1`` for ``v1``), else None.
    `title` and `abstract` keep the source's text (LaTeX included) for the agents;
    `title_display` is for people: LaTeX rendered to Unicode, whitespace collapsed.
    """

    model_config = ConfigDict(frozen=True)

    arxiv_id: str = Field(description="Canonical arXiv id, without version suffix")
    version: int | None = Field(default=None, description="Version number from the source, if known")
    title: str = Field(description="Title as the source gave it, whitespace-normalised, LaTeX kept")
    title_display: str = Field(description="Title with LaTeX rendered to Unicode, one line")
    authors: list[str] = Field(default_factory=list, description="All authors, in source order, untouched")
    abstract: str = Field(description="Abstract, whitespace-normalised, LaTeX kept")
    categories: list[str] = Field(default_factory=list, description="arXiv categories, primary first")
    primary_category: str = Field(description="Primary category, e.g. cs.LG")
    comment: str | None = Field(default=None, description="Author comment (pages, venue, links)")
    code_url: str | None = Field(default=None, description="Clean https://github.com/<owner>/<repo> link")
    announced: dt.date | None = Field(default=None, description="Announcement day of the listing")
    published: dt.datetime | None = Field(default=None, description="First-version submission time (UTC)")

    @property
    def abs_url(self) -> str:
        """Canonical abstract page, versioned when the version is known."""
        suffix = f"v{self.version}" if self.version else ""
        return f"https://arxiv.org/abs/{self.arxiv_id}{suffix}"

    @property
    def pdf_url(self) -> str:
        """PDF link, versioned when the version is known."""
        suffix = f"v{self.version}" if self.version else ""
        return f"https://arxiv.org/pdf/{self.arxiv_id}{suffix}"


class Listing(BaseModel):
    """The candidates of one announcement day, as read from a source.

    `date` is the announcement day (the date arXiv prints on the listing); `origin` says where
    the papers came from (a path or an endpoint URL), for the trace and the run record.
    """

    date: dt.date
    origin: str
    papers: list[Paper]


class FeaturedPaper(BaseModel):
    """A paper a digest featured, as the memory stores it (one Chroma record per paper)."""

    arxiv_id: str = Field(description="Canonical arXiv id")
    title: str
    abstract: str
    date: dt.date = Field(description="Announcement day of the digest that featured it")
    tier: str = Field(description="must_read or notable")
    rank: int = Field(description="1-based position in that digest")
    run_id: str = Field(default="", description="Run that wrote the digest")


class MemoryFlag(BaseModel):
    """A candidate that looks like a paper featured on an earlier day (not the same id)."""

    arxiv_id: str = Field(description="Canonical id of today's candidate")
    similar_to: str = Field(description="Canonical id of the past featured paper")
    similar_title: str
    featured_on: dt.date
    similarity: float = Field(description="Cosine similarity of the two embeddings, in [-1, 1]")


class Exclusion(BaseModel):
    """A candidate dropped before screening because an earlier digest already featured it."""

    arxiv_id: str
    featured_on: dt.date


Tier = Literal["must_read", "notable"]


class RubricScores(BaseModel):
    """The screener's rubric for one paper; each score is an integer in [1, 5]."""

    novelty: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    rigor: int = Field(ge=1, le=5)

    @property
    def total(self) -> int:
        """Sum of the three scores, in [3, 15]."""
        return self.novelty + self.impact + self.rigor


class Ranked(BaseModel):
    """A paper the screener ranked into the digest, before its 推荐理由 (`Pick` adds that).

    `rank` is 1-based over the whole digest (must-reads first); `triage_score` is the first-pass
    score in [1, 10] that put the paper on the shortlist.
    """

    arxiv_id: str
    rank: int = Field(ge=1)
    tier: Tier
    scores: RubricScores
    triage_score: int = Field(ge=1, le=10)
    relevance: float | None = Field(default=None, description="Relevance to the run's profile, [0, 1]")
    why: list[str] = Field(default_factory=list, description="Why for this reader (Chinese, from relevance)")


class Shortlisted(BaseModel):
    """One paper of a screening round's shortlist: its triage score and the rubric the ranking gave it.

    `by_critic` is True for a replacement the critic suggested, added past the triage cut.
    """

    arxiv_id: str
    triage_score: int = Field(ge=1, le=10)
    scores: RubricScores
    by_critic: bool = False


class ReaderCut(BaseModel):
    """How a screening round ordered the candidates for its reader profile (for `ribao runs why`).

    `relevance` in [0, 1] of every eligible candidate; `blended`, the score the shortlist is cut by,
    ``(1 - weight) × triage quality + weight × relevance``, of those at or over the `floor`.
    """

    profile: str
    floor: float
    weight: float
    relevance: dict[str, float]
    blended: dict[str, float]


class Pick(Ranked):
    """A paper the screener chose for the digest: its ranking and `reason`, the Chinese 推荐理由."""

    reason: str


class CriticDecision(BaseModel):
    """The critic's decision on one pick; `replacement` is a shortlisted id when it says replace."""

    arxiv_id: str
    decision: Literal["keep", "replace"]
    reason: str
    replacement: str | None = None


class Critique(BaseModel):
    """One round of the critic: `revise` when any pick should be replaced, else `accept`."""

    round: int = Field(ge=1)
    verdict: Literal["accept", "revise"]
    decisions: list[CriticDecision]
    capped: bool = Field(default=False, description="True when the round cap ended the loop on a revise")


class Fallback(BaseModel):
    """One full-text source that failed for a pick: its kind (html, pdf, latex), URL and the error."""

    kind: str
    url: str
    error: str


class SourceRecord(BaseModel):
    """What the writer was shown of one pick's paper (recorded in `<date>.json` as `picks[].source`).

    `used` is html, pdf, latex or abstract; `chars` and `tokens` measure the paper text sent (the
    excerpt, or title + abstract + comment); `token_count` says how tokens were counted (``llama.cpp``
    = the model's own tokenizer, ``estimate`` = a conservative estimate); `sections` are the headings
    kept; `cut` is True when a section or the rest of the paper was cut to fit the budget;
    `flagged` counts sentences addressed to an LLM or reviewer that were neutralised.
    """

    used: str
    url: str | None = None
    chars: int = 0
    tokens: int = 0
    token_count: str = "estimate"
    sections: list[str] = Field(default_factory=list)
    cut: bool = False
    fallbacks: list[Fallback] = Field(default_factory=list)
    flagged: int = 0


class PickText(BaseModel):
    """The writer's text for one pick: five fields for a must-read, `one_line` for a notable."""

    title_zh: str | None = None
    background: str | None = None
    innovation: str | None = None
    details: str | None = None
    results: str | None = None
    one_line: str | None = None


class Summary(PickText):
    """The writer's text for one pick (`PickText`), whose pick it is, and the text the writer saw."""

    arxiv_id: str
    tier: Tier
    source: SourceRecord | None = Field(default=None, description="The text the writer saw")


class Section(BaseModel):
    """One top-level section: its heading as printed (numbering kept) and its text.

    Paragraphs in `text` are separated by a blank line; subsection headings are lines of their own.
    """

    heading: str
    text: str

    @property
    def paragraphs(self) -> list[str]:
        """Return the non-empty paragraphs of the section."""
        return [p.strip() for p in re.split(r"\n\s*\n", self.text) if p.strip()]


class PaperText(BaseModel):
    """What ribao could read of one paper: the sections of the first source that worked, or none.

    `used` is ``abstract`` when every source failed; `fallbacks` lists each failed source with its
    error, in the order tried (html, pdf, latex); `hidden_dropped` counts hidden HTML elements removed.
    """

    arxiv_id: str
    version: int | None = None
    used: Literal["html", "pdf", "latex", "abstract"] = "abstract"
    url: str | None = None
    sections: list[Section] = Field(default_factory=list)
    fallbacks: list[Fallback] = Field(default_factory=list)
    hidden_dropped: int = 0
    extract_seconds: float = 0.0


class DeliveryRecord(BaseModel):
    """How one push channel fared with one digest: sizes in UTF-8 bytes, summed over its parts."""

    channel: str = Field(description="The [[push]] name")
    scheme: str = Field(description="Apprise URL scheme, e.g. schan, feishu, mailto")
    format: str = Field(description="markdown, card, text or html")
    status: Literal["ok", "failed"]
    parts: int = Field(description="Messages sent (a long digest is split on channels that allow it)")
    bytes: int = Field(description="UTF-8 bytes of the bodies sent")
    cut: int = Field(default=0, description="Rows or paragraphs left out to fit the channel (said in it)")
    attempts: int = 0
    error: str | None = None
