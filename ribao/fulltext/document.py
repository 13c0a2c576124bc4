"""The kinds of full-text source; the shapes of an extracted paper live in `ribao.schemas`."""

from __future__ import annotations

from typing import Literal

from ribao.schemas import PaperText, Section

Kind = Literal["html", "pdf", "latex"]
KINDS: tuple[Kind, ...] = ("html", "pdf", "latex")

__all__ = ["KINDS", "Kind", "PaperText", "Section"]
