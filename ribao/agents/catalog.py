"""The prompt catalogue: the registry's prompt files, sample values of their variables, and the check."""

from __future__ import annotations

import datetime as dt
import functools
import re
import traceback
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2 import nodes

from ribao.errors import ConfigError
from ribao.prompts import PromptLibrary
from ribao.registry import AGENTS, PROMPTS, REGISTRY, SUFFIX, PromptSpec
from ribao.sources.options import ListingOptions

# Six real papers of the bundled day: two with a code link, several with an author comment.
SAMPLE_IDS = ("2602.15038", "2602.15156", "2602.15034", "2602.15112", "2602.15143", "2602.15222")
SAMPLE_DAY = dt.date(2026, 2, 18)
SAMPLE_CATEGORIES = ["cs.CL", "cs.AI", "cs.LG"]


@dataclass(frozen=True)
class PromptProblem:
    """Why one effective prompt file does not render: `variable` is the unknown name, when there is one."""

    rel: str
    path: Path
    message: str
    line: int | None = None
    variable: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def prompt_files() -> list[PromptSpec]:
    """Return every prompt file of the agent registry, agents in pipeline order, names sorted."""
    return [p for a in REGISTRY.values() for p in sorted(a.prompts, key=lambda p: p.name)]


def select(agent: str, name: str | None = None) -> list[PromptSpec]:
    """Return the files named by `agent [name]` or `agent/name[.md.j2]`; all of the agent's without a name.

    Raises `ConfigError` listing the known agents or files when nothing matches.
    """
    if name is None and "/" in agent:
        agent, name = agent.split("/", 1)
    files = prompt_files()
    if agent not in REGISTRY:
        raise ConfigError(f"unknown agent {agent!r}; known: {', '.join(AGENTS)}")
    mine = [f for f in files if f.agent == agent]
    if name is None:
        return mine
    name = name.removesuffix(SUFFIX)
    chosen = [f for f in mine if f.name == name]
    if not chosen:
        known = ", ".join(f.rel for f in mine)
        raise ConfigError(f"unknown prompt file {agent}/{name}{SUFFIX}; known: {known}")
    return chosen


def stray_user_files(user_dir: Path | None) -> list[str]:
    """Return `*/*.md.j2` files in `user_dir` that override no packaged file (so nothing renders them)."""
    if not user_dir or not user_dir.is_dir():
        return []
    known = {f.rel for f in prompt_files()}
    found = (p.relative_to(user_dir).as_posix() for p in user_dir.glob(f"*/*{SUFFIX}"))
    return sorted(rel for rel in found if rel not in known)


def sample_filters(rel: str) -> dict[str, Any]:
    """Return the Jinja filters the registry lists for `rel`, from `ribao.digest` (only the page has any)."""
    from ribao import digest

    return {name: getattr(digest, name) for name in PROMPTS[rel].filters}


@functools.cache
def sample_variables() -> dict[str, dict[str, Any]]:
    """Return, per file (``agent/name.md.j2``), a sample value of each variable the registry lists for it.

    Built from real papers of the bundled 2026-02-18 listing with the agents' own view helpers,
    and every optional branch switched on (memory flags, a critique, a code link, a lead), so a
    check reaches every attribute a template uses. The names are the registry's (the prompt
    library renders nothing else); `tests/test_prompts_cli.py` compares the values' shapes
    against a real (scripted) run.
    """
    from ribao.agents.candidates import candidate_keys, flag_views, view
    from ribao.agents.triage import triage_view
    from ribao.digest import WEEKDAYS_ZH, cost_text, digest_items
    from ribao.schemas import CriticDecision, MemoryFlag, Pick, RubricScores, Summary
    from ribao.settings import Settings
    from ribao.sources import read_listing

    path = Path(str(resources.files("ribao") / "data" / f"{SAMPLE_DAY.isoformat()}.cs.jsonl"))
    listing = read_listing(ListingOptions(str(path), categories=SAMPLE_CATEGORIES), None)
    keys = candidate_keys(listing.papers)
    by_id = {p.arxiv_id: p for p in listing.papers}
    papers = [by_id[i] for i in SAMPLE_IDS]
    picked, alternates = papers[:4], papers[4:]
    words = Settings.model_fields["screener_abstract_words"].default
    triage_words = Settings.model_fields["triage_abstract_words"].default
    shown = {p.arxiv_id: keys[p.arxiv_id] for p in papers}
    views = {p.arxiv_id: view(p, keys[p.arxiv_id], words) for p in papers}

    picks = [
        Pick(
            arxiv_id=p.arxiv_id,
            rank=rank,
            tier="must_read" if rank <= 2 else "notable",
            scores=RubricScores(novelty=4, impact=4, rigor=3),
            triage_score=9 - rank,
            reason="针对多语言模型的可解释性，给出了可复现的分析工具。",
        )
        for rank, p in enumerate(picked, start=1)
    ]
    flag = MemoryFlag(
        arxiv_id=papers[1].arxiv_id,
        similar_to="2602.10001",
        similar_title="Continual Learning with Structured Memory",
        featured_on=dt.date(2026, 2, 11),
        similarity=0.91,
    )
    flags = flag_views([flag], shown)
    keep = CriticDecision(arxiv_id=picks[0].arxiv_id, decision="keep", reason="入选合理")
    swap = CriticDecision(
        arxiv_id=picks[3].arxiv_id,
        decision="replace",
        reason="不如落选候选",
        replacement=alternates[0].arxiv_id,
    )
    must_text: dict[str, Any] = {"title_zh": "多语言模型的可解释性", "background": "现有工具多针对英语。"}
    must_text |= {"innovation": "按语言校准的透镜。", "details": "逐层仿射探针。", "results": "优于基线。"}
    summaries = {
        p.arxiv_id: Summary(
            arxiv_id=p.arxiv_id,
            tier=p.tier,
            **(must_text if p.tier == "must_read" else {"one_line": "一个值得关注的新基准。"}),
        )
        for p in picks
    }
    items = digest_items(picks, by_id, summaries)
    # A stand-in excerpt makes the check reach the full-text branch too.
    excerpt = "1 Introduction\n" + papers[0].abstract
    return {
        "screener/system.md.j2": {},
        "screener/triage_rules.md.j2": {},
        "screener/triage.md.j2": {
            "batch_index": 1,
            "batch_count": 9,
            "candidates": [triage_view(p, f"P{i:02d}", triage_words) for i, p in enumerate(papers, start=1)],
        },
        "screener/rank.md.j2": {
            "round": 2,
            "must_read": 2,
            "notable": 2,
            "candidates": list(views.values()),
            "critique": [
                {**d.model_dump(), "key": keys[d.arxiv_id], "replacement": keys.get(d.replacement or "")}
                for d in (keep, swap)
            ],
            "flags": flags,
        },
        "screener/reasons.md.j2": {
            "candidates": [{**views[p.arxiv_id], "tier": p.tier} for p in picks],
        },
        "critic/system.md.j2": {},
        "critic/user.md.j2": {
            "round": 1,
            "picks": [
                {**views[p.arxiv_id], "rank": p.rank, "tier": p.tier, "reason": p.reason} for p in picks
            ],
            "alternates": [views[p.arxiv_id] for p in alternates],
            "flags": flags,
        },
        "writer/system.md.j2": {},
        "writer/must_read.md.j2": {"paper": papers[0], "fulltext": excerpt},
        "writer/notable.md.j2": {"paper": papers[2], "fulltext": excerpt},
        "editor/system.md.j2": {},
        "editor/user.md.j2": {
            "date": SAMPLE_DAY.isoformat(),
            "items": [
                {
                    "rank": p.rank,
                    "title": by_id[p.arxiv_id].title_display,
                    "summary": summaries[p.arxiv_id].title_zh or summaries[p.arxiv_id].one_line or "",
                }
                for p in picks
            ],
        },
        "editor/digest.md.j2": {
            "date": SAMPLE_DAY.isoformat(),
            "weekday": WEEKDAYS_ZH[SAMPLE_DAY.weekday()],
            "scanned": len(listing.papers),
            "picked": len(items),
            "total_tokens": 123_456,
            "cost_text": cost_text(0.0312, "CNY"),
            "lead": "今天的论文集中在多语言可解释性与持续学习。",
            "must_reads": [i for i in items if i["tier"] == "must_read"],
            "notables": [i for i in items if i["tier"] == "notable"],
            "categories": SAMPLE_CATEGORIES,
            "run_id": "01KSAMPLE0000000000000000",
            "wanted": len(items),
        },
    }


_VARIABLE = re.compile(r"^'(?P<name>[^']+)' is undefined$|has no attribute '(?P<attr>[^']+)'$")


def _name_line(ast: nodes.Template, name: str) -> int | None:
    for node in ast.find_all(nodes.Name):
        if node.name == name and node.ctx == "load":
            return node.lineno
    return None


def _template_line(exc: BaseException, path: Path) -> int | None:
    """Return the template line of the innermost traceback frame in `path` (Jinja rewrites frames)."""
    line, target = None, path.resolve()
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename).resolve() == target:
            line = lineno
    return line


def check_file(library: PromptLibrary, rel: str, variables: dict[str, Any]) -> list[PromptProblem]:
    """Parse and render the effective `rel` with `variables`; return its problems (empty when fine).

    Names used anywhere in the file must be variables ribao passes, as the registry lists them (a
    static check, so branches the sample skips are covered too); attributes are checked by
    rendering `variables` (sample values of those names) with StrictUndefined.
    """
    path, _ = library.path_of(rel)
    passed = PROMPTS[rel].variables
    env = jinja2.Environment()
    env.filters.update(sample_filters(rel))
    try:
        ast = env.parse(path.read_text(encoding="utf-8"))
        # Compiles the file too, so an unknown filter shows up here as a TemplateAssertionError.
        unknown = sorted(jinja2.meta.find_undeclared_variables(ast) - passed)
    except jinja2.TemplateSyntaxError as exc:
        return [PromptProblem(rel, path, f"syntax error: {exc.message}", line=exc.lineno)]
    known = ", ".join(sorted(passed)) or "none"
    if unknown:
        return [
            PromptProblem(
                rel,
                path,
                f"'{name}' is undefined (variables of this file: {known})",
                line=_name_line(ast, name),
                variable=name,
            )
            for name in unknown
        ]
    try:
        library.render_file(rel, filters=sample_filters(rel), **variables)
    except ConfigError as exc:
        cause = exc.__cause__
        if isinstance(cause, jinja2.TemplateSyntaxError):
            return [PromptProblem(rel, path, f"syntax error: {cause.message}", line=cause.lineno)]
        if not isinstance(cause, jinja2.TemplateError):
            raise
        message = cause.message or str(cause)
        match = _VARIABLE.search(message)
        variable = (match.group("name") or match.group("attr")) if match else None
        return [PromptProblem(rel, path, message, line=_template_line(cause, path), variable=variable)]
    return []


def check_prompts(library: PromptLibrary) -> list[PromptProblem]:
    """Render every effective prompt file with its sample data; return every problem found.

    A user file that overrides no packaged file is a problem too (nothing would ever render it).
    """
    samples = sample_variables()
    problems: list[PromptProblem] = []
    for f in prompt_files():
        if f.rel not in samples:
            path, _ = library.path_of(f.rel)
            problems.append(PromptProblem(f.rel, path, "no sample data: add it to ribao/agents/catalog.py"))
            continue
        problems.extend(check_file(library, f.rel, samples[f.rel]))
    user_dir = library.user_dir
    for rel in stray_user_files(user_dir):
        message = "overrides no packaged prompt file, so ribao never reads it"
        problems.append(PromptProblem(rel, Path(user_dir or ".") / rel, message))
    return problems
