"""Output schemas of the agents. Choices are enums so constrained decoding can enforce them.

The screener and critic schemas are built per call with one required property per candidate
key, so a grammar-constrained model (llama.cpp) cannot skip, repeat or invent a candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

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


def compact_triage_schema(keys: Sequence[str]) -> type[BaseModel]:
    """Schema of one triage call for a grammar-constrained local model: ``{scores: [1..10, …]}``,
    exactly one score per key, in the batch's key order (P01 first).

    Same judgement as `triage_schema`, a quarter of the output: SmolLM2 wrote 174 tokens for the 20
    keyed scores of a batch (``"P01": 2, `` is about 9 tokens) against 2 per score in a list. The
    grammar fixes the length, so no candidate can be skipped or repeated; a provider's model gets the
    keyed form, which does not depend on the order being kept.
    """
    n = len(keys)
    return create_model(
        "TriageScores",
        __doc__=f"First-pass scores of the candidates {keys[0]}..{keys[-1]} in that order, "
        "1 (skip) to 10 (must read).",
        scores=(list[TriageScore], Field(min_length=n, max_length=n)),
    )


def triage_scores(reply: BaseModel, keys: Sequence[str]) -> dict[str, int]:
    """Return key → score from a `triage_schema` or `compact_triage_schema` reply."""
    if "scores" in type(reply).model_fields:
        return {k: int(v) for k, v in zip(keys, reply.scores, strict=True)}  # type: ignore[attr-defined]
    return {k: int(getattr(reply, k)) for k in keys}


class RankEntry(BaseModel):
    """The rubric for one shortlisted candidate."""

    novelty: Score = Field(description="Novelty, 1-5")
    impact: Score = Field(description="Impact on AI research or practice, 1-5")
    rigor: Score = Field(description="Rigor of experiments or theory, 1-5")


def rank_schema(keys: Sequence[str]) -> type[BaseModel]:
    """Schema of the ranking call: one `RankEntry` per shortlisted key."""
    fields: dict[str, Any] = {k: (RankEntry, Field(description=f"Rubric for candidate {k}")) for k in keys}
    return create_model("ShortlistRanking", __doc__="Rate every shortlisted candidate.", **fields)


def compact_rank_schema(keys: Sequence[str]) -> type[BaseModel]:
    """Schema of the ranking call for a grammar-constrained local model: ``{rubric: [[novelty,
    impact, rigor], …]}``, one triple of 1..5 per shortlisted key, in the shortlist's order.

    A keyed `RankEntry` cost SmolLM2 about 33 output tokens per candidate (855 for 26), a triple
    about 7; the grammar fixes both lengths.
    """
    n = len(keys)
    triple = Annotated[list[Score], Field(min_length=3, max_length=3)]
    return create_model(
        "ShortlistRanking",
        __doc__=f"Rate the shortlisted candidates {keys[0]}..{keys[-1]} in that order: "
        "[novelty, impact, rigor], each 1-5.",
        rubric=(list[triple], Field(min_length=n, max_length=n)),  # type: ignore[valid-type]
    )


def rank_entries(reply: BaseModel, keys: Sequence[str]) -> dict[str, RankEntry]:
    """Return key → `RankEntry` from a `rank_schema` or `compact_rank_schema` reply."""
    if "rubric" in type(reply).model_fields:
        rows = zip(keys, reply.rubric, strict=True)  # type: ignore[attr-defined]
        return {k: RankEntry(novelty=a, impact=b, rigor=c) for k, (a, b, c) in rows}
    return {k: getattr(reply, k) for k in keys}


def reasons_schema(keys: Sequence[str]) -> type[BaseModel]:
    """Schema of the reasons call: one Chinese 推荐理由 (2-200 characters) per pick key."""
    fields: dict[str, Any] = {
        k: (str, Field(min_length=2, max_length=200, description=f"{k} 的一句简体中文推荐理由")) for k in keys
    }
    return create_model("PickReasons", __doc__="Give each pick its recommendation.", **fields)


def critique_schema(
    pick_keys: Sequence[str], alternate_keys: Sequence[str], *, local: bool = False
) -> type[BaseModel]:
    """Schema of one critic round: per pick, keep/replace, a reason, and an alternate key or none.

    `local` (a grammar-constrained model): the reason is digit-free text of at most
    `LOCAL_REASON_CHARS`, like the screener's reasons (SmolLM2 wrote 200-character grant notes).
    """
    replacement = Literal[tuple([*alternate_keys, "none"])]  # type: ignore[valid-type]
    reason = (
        Field(pattern=_DIGIT_FREE % (2, LOCAL_REASON_CHARS), description="一句简体中文理由")
        if local
        else Field(min_length=2, max_length=200, description="一句简体中文理由")
    )
    entry_fields: dict[str, Any] = {
        "decision": (Literal["keep", "replace"], Field(description="keep the pick, or replace it")),
        "reason": (str, reason),
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


#: The longest text field a grammar-constrained local model may write, in characters. Its text is
#: a few sentences long at best: SmolLM2 ran every must-read field it could to the cap (``details``
#: to 800 characters, about 600 tokens at 50 tok/s on 2 cores), repeating itself.
LOCAL_MAX_CHARS = 300
#: A one-sentence reason (screener's 推荐理由, critic's 理由) from a grammar-constrained local model.
LOCAL_REASON_CHARS = 100


def digit_free(model: type[BaseModel], ceiling: int = LOCAL_MAX_CHARS) -> type[BaseModel]:
    """Return `model` with every text field restricted to digit-free text of the same length bounds,
    the upper one at most `ceiling` characters.

    For grammar-constrained local models: a 135M model cannot be trusted to quote numbers, and the
    number guard would reject its summaries; with this schema it cannot write a digit at all.
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        low = next((m.min_length for m in info.metadata if hasattr(m, "min_length")), 0)
        high = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), 300)
        bounds = (low, min(high, ceiling))
        fields[name] = (str, Field(pattern=_DIGIT_FREE % bounds, description=info.description))
    return create_model(model.__name__, __doc__=model.__doc__, **fields)


class LeadOutput(BaseModel):
    """The editor's short lead on the day's themes."""

    lead: str = Field(min_length=4, max_length=400, description="不超过120字的中文导语")


#: The lead's cap for a grammar-constrained local model: the prompt asks for at most 120 characters;
#: SmolLM2 wrote the 400 a provider's model may use (444 tokens), as a list of empty labels.
LOCAL_LEAD_CHARS = 150
