"""The shapes of an extracted paper: sections (heading, text) and where the text came from."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from ribao.schemas import Fallback

Kind = Literal["html", "pdf", "latex"]
KINDS: tuple[Kind, ...] = ("html", "pdf", "latex")


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
    used: Kind | Literal["abstract"] = "abstract"
    url: str | None = None
    sections: list[Section] = Field(default_factory=list)
    fallbacks: list[Fallback] = Field(default_factory=list)
    hidden_dropped: int = 0
    extract_seconds: float = 0.0
