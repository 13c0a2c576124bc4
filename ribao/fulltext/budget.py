"""Fit a paper's sections into a token budget: key sections first, cut at paragraph boundaries, marked."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ribao.fulltext.document import PaperText, Section
from ribao.fulltext.sanitise import FLAG, clean, fence, neutralise
from ribao.fulltext.tokens import Counted, estimate_tokens

# Priority of a section by its heading (lower first); None drops it.
_RANKS: list[tuple[int | None, re.Pattern[str]]] = [
    (None, re.compile(r"reference|bibliograph|acknowledg|author contribution|^authors$|contributions", re.I)),
    (6, re.compile(r"^appendix|^[A-H](?:\.|\s|$)|supplementa", re.I)),
    (0, re.compile(r"abstract", re.I)),
    (1, re.compile(r"introduction|overview", re.I)),
    (3, re.compile(r"experiment|result|evaluat|ablation|benchmark|study|analys|finding|performance", re.I)),
    (4, re.compile(r"conclusion|discussion|limitation|future work|summary", re.I)),
    (5, re.compile(r"related work|background|prior work|front matter|literature", re.I)),
    (2, re.compile(r".")),  # anything else in the body: the method, the model, the data, the system
]
CUT = "[……此处段落因篇幅预算省略 | paragraphs cut here to fit the budget]"
OMITTED = "[因篇幅预算省略的章节 | sections omitted to fit the budget: {names}]"


def section_rank(heading: str) -> int | None:
    """Return the priority of a section (0 abstract, 1 intro, 2 method, 3 experiments, 4 conclusion,
    5 related work/background, 6 appendix), or None for references, acknowledgements and author lists."""
    name = re.sub(r"^(?:[IVX]+|\d+|[A-H])(?:\.\d+)*\.?\s+(?=\S)", "", heading.strip())
    if re.match(r"^(?:appendix|[A-H](?:\.\d+)*\.?\s)", heading.strip(), re.I):
        return None if _RANKS[0][1].search(name) else 6
    for rank, pattern in _RANKS:
        if pattern.search(name):
            return rank
    return 2


@dataclass
class Excerpt:
    """The paper text one writer prompt carries: `text` is the fenced block (empty when nothing fits);
    `counted_by` names the counter of `tokens` (``llama.cpp`` or ``estimate``)."""

    text: str
    sections: list[str]
    cut: bool
    chars: int
    tokens: int
    flagged: int
    counted_by: str = "estimate"


def _select(
    sections: list[Section], budget: int, max_chars: int
) -> tuple[list[tuple[int, Section, list[int]]], bool]:
    """Return [(document index, section, indices of kept paragraphs)] fitting `budget` estimated tokens,
    and whether anything was cut.

    Two passes: first each key section (abstract … conclusion) gets its leading paragraphs up to an
    equal share of the budget (at most a quarter), so a long method section cannot crowd out the
    results or the conclusion; then the rest of the budget goes to every section by priority.
    A paragraph that does not fit is skipped (a later, shorter one may still go in).
    """
    order = sorted(
        ((section_rank(s.heading), i, s) for i, s in enumerate(sections)),
        key=lambda t: (t[0] if t[0] is not None else 99, t[1]),
    )
    used_tokens, used_chars = 0, 0
    chosen: dict[int, list[int]] = {}
    keys = sum(1 for rank, _, _ in order if rank is not None and rank <= 4)
    for share, top_rank in ((budget // max(4, keys), 4), (budget, 6)):
        for rank, i, s in order:
            if rank is None or rank > top_rank:
                continue
            taken = chosen.setdefault(i, [])
            head = estimate_tokens(s.heading) + 4
            spent = 0
            for j, para in enumerate(s.paragraphs):
                if j in taken:
                    continue
                cost = estimate_tokens(para) + 2 + (0 if taken else head) + estimate_tokens(CUT)
                if used_tokens + cost > budget or used_chars + len(para) > max_chars or spent + cost > share:
                    if top_rank == 4:
                        break  # the first pass keeps leading paragraphs only
                    continue
                used_tokens += cost
                used_chars += len(para)
                spent += cost
                taken.append(j)
    kept = [(i, sections[i], sorted(js)) for i, js in sorted(chosen.items()) if js]
    total = sum(len(s.paragraphs) for s in sections if section_rank(s.heading) is not None)
    return kept, sum(len(js) for _, _, js in kept) < total


def _render(paper: PaperText, kept: list[tuple[int, Section, list[int]]], prepared: list[Section]) -> str:
    names = {i for i, _, _ in kept}
    parts = []
    for _, s, chosen in kept:
        paras = s.paragraphs
        body: list[str] = []
        for j, para in enumerate(paras):
            if j in chosen:
                body.append(para)
            elif not body or body[-1] != CUT:
                body.append(CUT)
        parts.append(f"## {s.heading}\n\n" + "\n\n".join(body))
    omitted = [
        s.heading for i, s in enumerate(prepared) if i not in names and section_rank(s.heading) is not None
    ]
    if omitted:
        parts.append(OMITTED.format(names="; ".join(omitted)))
    return fence("\n\n".join(parts), arxiv_id=paper.arxiv_id, used=paper.used)


def fit_excerpt(paper: PaperText, budget: int, count: Callable[[str], Counted], *, max_chars: int) -> Excerpt:
    """Return the largest excerpt of `paper` whose fenced text `count` says fits `budget` tokens.

    Sections go in by priority (abstract, introduction, method, experiments/results, conclusion,
    then the rest; references dropped), paragraphs that do not fit replaced by one `CUT`; the kept
    sections appear in document order and the omitted ones are listed. Paper text is cleaned of
    invisible characters and fence lookalikes and its LLM-addressed sentences are flagged first.
    The selection uses the conservative estimate; `count` (the model's tokenizer) then checks the
    result, and the selection is rescaled (at most 4 rounds) when the two disagree. Blocking when
    `count` asks a tokenizer server: call it from a worker thread.
    """
    flagged = 0
    prepared = []
    for s in paper.sections:
        text, n = neutralise(clean(s.text))
        flagged += n
        prepared.append(Section(heading=clean(s.heading), text=text))
    if budget <= 0 or not prepared:
        return Excerpt(text="", sections=[], cut=bool(prepared), chars=0, tokens=0, flagged=0)
    best: Excerpt | None = None
    scale = 1.0
    for _ in range(4):
        kept, cut = _select(prepared, int(budget * scale), max_chars)
        if not kept:
            break
        text = _render(paper, kept, prepared)
        tokens, counted_by = count(text)
        if tokens <= budget:
            kept_flags = text.count(FLAG)
            candidate = Excerpt(
                text=text,
                sections=[s.heading for _, s, _ in kept],
                cut=cut,
                chars=len(text),
                tokens=tokens,
                flagged=kept_flags,
                counted_by=counted_by,
            )
            if best is None or candidate.tokens > best.tokens:
                best = candidate
            if not cut or tokens > 0.9 * budget:
                break
        new_scale = scale * budget / max(tokens, 1) * 0.97
        if abs(new_scale - scale) < 0.02:
            break
        scale = new_scale
    return best or Excerpt(text="", sections=[], cut=True, chars=0, tokens=0, flagged=0)
