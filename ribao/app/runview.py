"""Look into one recorded run: why a paper was or was not picked (`ribao runs why`), the run page
(`ribao runs view`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ribao.arxiv_ids import canonical_id
from ribao.errors import BadFlag
from ribao.registry import NODES
from ribao.runs.db import RunLog
from ribao.runs.why import PaperPath, path_of
from ribao.settings import Settings

if TYPE_CHECKING:  # the page's modules load only for `runs view`, so `runs why` starts faster
    from ribao.runs.page import RunRecord
    from ribao.runs.page_graph import GraphShape


def explain_paper(settings: Settings, ref: str, arxiv_id: str) -> PaperPath:
    """Return paper `arxiv_id`'s path through run `ref` (id, prefix or ``latest``) of the run log.

    Raises `BadFlag` (exit 2) for text that is no arXiv id and `RunNotFound` for an unknown run.
    """
    try:
        pid = canonical_id(arxiv_id)
    except ValueError as exc:
        raise BadFlag(f"{exc}; give an id like 2602.15763") from None
    with RunLog.open(settings.home, url=settings.store.url) as log:
        return path_of(log, ref, pid)


def graph_shape() -> GraphShape:
    """Return the compiled graph's nodes (pipeline order) and edges, as the run page draws them."""
    from ribao.graph.builder import compile_graph
    from ribao.runs.page_graph import GraphShape

    drawn = compile_graph().get_graph()
    edges = tuple((e.source, e.target, bool(e.conditional)) for e in drawn.edges)
    return GraphShape(nodes=NODES, edges=edges)


def run_record(log: RunLog, ref: str) -> RunRecord:
    """Read what the run page shows of run `ref` (id, prefix or ``latest``); raises `RunNotFound`."""
    from ribao.runs.page import RunRecord

    run = log.get_run(ref)
    return RunRecord(run, log.nodes(run.run_id), log.calls(run.run_id), log.deliveries(run.run_id))


def view_run(settings: Settings, ref: str, out: Path | None = None) -> Path:
    """Write the page of run `ref` to `out` (default `<home>/runs/<run id>.html`); return its path.

    Raises `RunNotFound` for an unknown run.
    """
    from ribao.runs.page import render_run_page

    with RunLog.open(settings.home, url=settings.store.url) as log:
        record = run_record(log, ref)
        secrets = sorted(log.secrets)
    target = out or settings.home / "runs" / f"{record.run.run_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_run_page(record, graph_shape(), secrets=secrets), encoding="utf-8")
    return target
