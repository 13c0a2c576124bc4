"""The writer: one Chinese summary per pick (five fields for a must-read, one line for a notable)."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from ribao.agents.outputs import MustReadOutput, NotableOutput
from ribao.graph.context import RunContext
from ribao.graph.state import WriterTask
from ribao.llm.structured import ainvoke_structured
from ribao.schemas import Paper, Summary

# A number of two or more digits, or with a decimal part, or a percentage: these must be quoted
# from the source. Single digits are exempt because sources often spell them out ("three tasks").
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*%?|\d\.\d+%?)(?![\w])")


def unsupported_numbers(text: str, source: str) -> list[str]:
    """Return numbers quoted in `text` that do not occur in `source` (thousands separators ignored)."""
    plain_source = source.replace(",", "")
    missing = []
    for match in _NUMBER.finditer(text):
        number = match.group(1).replace(",", "").rstrip("%")
        if len(number) < 2 and "." not in number:
            continue
        if number not in plain_source:
            missing.append(match.group(1))
    return missing


def _source_text(paper: Paper) -> str:
    return " ".join([paper.title, paper.abstract, paper.comment or ""])


def _check_numbers(paper: Paper):  # type: ignore[no-untyped-def]
    def check(out: MustReadOutput | NotableOutput) -> None:
        text = " ".join(str(v) for v in out.model_dump().values())
        missing = unsupported_numbers(text, _source_text(paper))
        if missing:
            raise ValueError(
                f"这些数字在论文原文中找不到：{', '.join(missing)}。只能引用原文中出现的数字 "
                f"(numbers not in the source: {', '.join(missing)})"
            )

    return check


async def write_summary(task: WriterTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Write the summary of one pick; returns `summaries` keyed by arXiv id and the `llm_calls`.

    Every number the summary quotes must occur in the paper's title, abstract or comment;
    a reply that breaks this is re-asked, then fails the run (`LLMOutputError`).
    """
    ctx = runtime.context
    pick, paper = task["pick"], task["paper"]
    must = pick.tier == "must_read"
    user = ctx.prompts.render("writer", "must_read" if must else "notable", paper=paper, fulltext=None)
    schema: type[MustReadOutput] | type[NotableOutput] = MustReadOutput if must else NotableOutput
    out, calls = await ainvoke_structured(
        ctx.model("writer"),
        schema,
        [SystemMessage(ctx.prompts.render("writer", "system")), HumanMessage(user)],
        agent="writer",
        task=paper.arxiv_id,
        check=_check_numbers(paper),
        retries=ctx.settings.structured_retries,
    )
    fields = {k: v.strip() for k, v in out.model_dump().items()}
    summary = Summary(arxiv_id=paper.arxiv_id, tier=pick.tier, **fields)
    return {"summaries": {paper.arxiv_id: summary}, "llm_calls": calls}
