"""Which papers the recorded runs saw as candidates: the `fetch_listing` node's recorded outputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ribao.runs.db import RunLog

LISTING_NODE = "fetch_listing"


@dataclass(frozen=True)
class SeenPaper:
    """A paper that was a candidate of a recorded run: its title, the day and the run."""

    arxiv_id: str
    title: str
    date: dt.date | None
    run_id: str


def seen_candidates(log: RunLog, ids: Iterable[str], *, runs: int = 200) -> dict[str, SeenPaper]:
    """Return, for each of `ids` (canonical) that was a candidate of one of the newest `runs` runs, the
    newest run it was seen in."""
    wanted = set(ids)
    found: dict[str, SeenPaper] = {}
    for run in log.list_runs(limit=runs):
        if not wanted - found.keys():
            break
        for node in log.nodes(run.run_id):
            if node.node != LISTING_NODE or not isinstance(node.outputs, dict):
                continue
            for paper in node.outputs.get("candidates") or []:
                key = paper.get("arxiv_id") if isinstance(paper, dict) else None
                if key in wanted and key not in found:
                    found[key] = SeenPaper(key, str(paper.get("title", "")), run.date, run.run_id)
    return found
