"""Output schemas of the agents. Choices are enums so constrained decoding can enforce them.

The screener and critic schemas are built per call with one required property per candidate
key, so a grammar-constrained model (llama.cpp) cannot skip, repeat or invent a candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

TriageScore = Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
Score = Literal[1, 2, 3, 4, 5]


def triage_schema(keys: Sequence[str]) -> type[BaseModel]:
    """Schema of one triage call: ``{P01: 1..10, P02: 1..10, …}`` for exactly these keys.

    The scale is explained once, in the tool's description, not per key: a per-key description
    cost about 15 tokens per candidate. Same keys, same schema (byte for byte).
    """
    fields: dict[str, Any] = {k: (TriageScore, ...) for k in keys}
    return create_model(
        "TriageScores",
        __doc__="First-pass score of every candidate of this batch, 1 (skip) to 10 (must read).",
        **fields,
    )


class RankEntry(BaseModel):
    """The rubric for one shortlisted candidate."""

    novelty: Score = Field(description="Novelty, 1-5")
    impact: Score = Field(description="Impact on AI research or practice, 1-5")
    rigor: Score = Field(description="Rigor of experiments or theory, 1-5")


def rank_schema(keys: Sequence[str]) -> type[BaseModel]:
    """Schema of the ranking call: one `RankEntry` per shortlisted key."""
    fields: dict[str, Any] = {k: (RankEntry, Field(description=f"Rubric for candidate {k}")) for k in keys}
    return create_model("ShortlistRanking", __doc__="Rate every shortlisted candidate.", **fields)


def reasons_schema(keys: Sequence[str]) -> type[BaseModel]:
    """Schema of the reasons call: one Chinese 推荐理由 (2-200 characters) per pick key."""
    fields: dict[str, Any] = {
        k: (str, Field(min_length=2, max_length=200, description=f"{k} 的一句简体中文推荐理由")) for k in keys
    }
    return create_model("PickReasons", __doc__="Give each pick its recommendation.", **fields)


def critique_schema(pick_keys: Sequence[str], alternate_keys: Sequence[str]) -> type[BaseModel]:
    """Schema of one critic round: per pick, keep/replace, a reason, and an alternate key or none."""
    replacement = Literal[tuple([*alternate_keys, "none"])]  # type: ignore[valid-type]
    entry_fields: dict[str, Any] = {
        "decision": (Literal["keep", "replace"], Field(description="keep the pick, or replace it")),
        "reason": (str, Field(min_length=2, max_length=200, description="一句简体中文理由")),
        "replacement": (replacement, Field(description="Key of a better shortlisted candidate, or none")),
    }
    entry = create_model("CriticEntry", **entry_fields)
    fields: dict[str, Any] = {k: (entry, Field(description=f"Verdict on pick {k}")) for k in pick_keys}
    return create_model("CriticVerdicts", __doc__="Check every pick.", **fields)


class MustReadOutput(BaseModel):
    """The five fields of a must-read summary, in simplified Chinese.

    Length caps are in characters; they also bound llama.cpp's grammar, which fails to compile
    (and drops the connection) for string caps above about 1,000 characters.
    """

    title_zh: str = Field(min_length=2, max_length=150, description="中文标题")
    background: str = Field(min_length=10, max_length=600, description="背景与痛点")
    innovation: str = Field(min_length=10, max_length=600, description="核心创新")
    details: str = Field(min_length=10, max_length=800, description="技术细节")
    results: str = Field(min_length=4, max_length=600, description="实验结果")


class NotableOutput(BaseModel):
    """The one-line summary of a notable paper, in simplified Chinese."""

    one_line: str = Field(min_length=4, max_length=300, description="一句话推荐")


# Text without digits (ASCII or full-width), quotes or backslashes, of a bounded length: a grammar
# llama.cpp can compile (its converter ignores maxLength when a pattern is given, so the bounds go in
# the pattern). Chinese numerals stay allowed: 一 and 十 are also parts of everyday words (统一, 十分).
_DIGIT_FREE = r'^[^0-9０-９"\\]{%d,%d}$'


def digit_free(model: type[BaseModel]) -> type[BaseModel]:
    """Return `model` with every text field restricted to digit-free text of the same length bounds.

    For grammar-constrained local models: a 135M model cannot be trusted to quote numbers, and the
    number guard would reject its summaries; with this schema it cannot write a digit at all.
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        low = next((m.min_length for m in info.metadata if hasattr(m, "min_length")), 0)
        high = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), 300)
        fields[name] = (str, Field(pattern=_DIGIT_FREE % (low, high), description=info.description))
    return create_model(model.__name__, __doc__=model.__doc__, **fields)


class LeadOutput(BaseModel):
    """The editor's short lead on the day's themes."""

    lead: str = Field(min_length=4, max_length=400, description="不超过120字的中文导语")
