"""A recorded run's outputs for scoring: saved under `<home>/evals/outputs`, else from its checkpoints."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ribao.errors import EvalError
from ribao.evals.outputs import RunOutputs, load_outputs, save_outputs
from ribao.runs.backend import checkpoint_target, shown
from ribao.runs.rows import RunRow
from ribao.schemas import Paper, PaperText

if TYPE_CHECKING:
    from ribao.settings import Settings


def _text_of(paper: Paper, fulltext: PaperText | None) -> str:
    """The text a writer could have seen: title, abstract, comment and every full-text section."""
    sections = " ".join(s.text for s in fulltext.sections) if fulltext else ""
    return " ".join([paper.title, paper.abstract, paper.comment or "", sections])


async def _final_state(home: Path, run_id: str, url: str | None) -> dict[str, Any]:
    from ribao.graph.checkpoint import open_checkpointer  # langgraph: only when outputs are not cached

    target = checkpoint_target(home, url)
    if isinstance(target, Path) and not target.is_file():
        return {}
    async with open_checkpointer(target) as saver:
        found = await saver.aget_tuple({"configurable": {"thread_id": run_id, "checkpoint_ns": ""}})
    return dict(found.checkpoint["channel_values"]) if found else {}


def outputs_from_checkpoints(home: Path, row: RunRow, *, url: str | None = None) -> RunOutputs:
    """Read run `row`'s outputs from its checkpoints' final state (at `url`, the store's Postgres,
    else under `home`); raises `EvalError` when there are none."""
    from ribao.app.services import settings_of_run

    state = asyncio.run(_final_state(home, row.run_id, url))
    if not state.get("picks"):
        where = shown(url) if url else home
        raise EvalError(
            f"run {row.run_id} has no outputs on record (no checkpoints with picks in {where}); "
            "a replay's outputs are kept by `ribao eval run`"
        )
    return outputs_of_state(row.run_id, row.date, settings_of_run(row.settings), state)


def outputs_of_state(
    run_id: str, date: dt.date | None, settings: Settings, state: Mapping[str, Any]
) -> RunOutputs:
    """Return a run's outputs from its graph state (a recorded run's final checkpoint, or a replay's
    state); `settings` rebuild its shortlist, `date` stands in when the state has none."""
    from ribao.agents.screener import shortlist  # the agents' imports: only when outputs are not cached

    gone = {e.arxiv_id for e in state.get("excluded", [])}
    papers = [p for p in state.get("candidates", []) if p.arxiv_id not in gone]
    scores = state.get("triage_scores", {})
    listed = shortlist(papers, scores, state, settings) if scores else []  # type: ignore[arg-type]
    by_id = {p.arxiv_id: p for p in papers}
    fulltexts = state.get("fulltexts", {})
    picks = state["picks"]
    shown = [p.arxiv_id for p in listed] + [p.arxiv_id for p in picks]
    return RunOutputs(
        run_id=run_id,
        date=state.get("date", date),
        candidates=[p.arxiv_id for p in papers],
        triage_scores=dict(scores),
        shortlist=[p.arxiv_id for p in listed],
        picks=picks,
        summaries=dict(state.get("summaries", {})),
        titles={pid: by_id[pid].title_display for pid in shown if pid in by_id},
        sources={
            p.arxiv_id: _text_of(by_id[p.arxiv_id], fulltexts.get(p.arxiv_id))
            for p in picks
            if p.arxiv_id in by_id
        },
    )


def run_outputs(home: Path, row: RunRow, *, url: str | None = None) -> RunOutputs:
    """Return a run's outputs: those saved under `<home>/evals/outputs`, else read from its
    checkpoints (at store `url` when set) once and saved there (so recomputing the metrics reads one
    small file per run)."""
    saved = load_outputs(home, row.run_id)
    if saved is not None:
        return saved
    outputs = outputs_from_checkpoints(home, row, url=url)
    with contextlib.suppress(OSError):  # a read-only home still scores, only slower next time
        save_outputs(home, outputs)
    return outputs
