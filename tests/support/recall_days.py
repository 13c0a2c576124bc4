"""Near-duplicate recall on real days: the scenario the MiniLM embedders are compared on.

`tests/data/minilm/recall_papers.json` holds 26 real candidates from the 12 real days in
`../shared/data/arxiv/` (each from the day it was first listed) whose best match among the papers
of earlier days spans cosine 0.70-0.90 (of all 2,827 such candidates, the 10 closest, every 8th
of the others at >= 0.75 and every 40th between 0.70 and 0.75), and as memory those matches: each
candidate's 3 nearest papers of earlier days, remembered on the day they were listed.
`scripts/minilm_golden.py` records the flags today's sentence-transformers path gives
(`recall_flags.json`); the tests require the same flags from the ONNX embedder.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ribao.memory import Embedder, MemoryStore
from ribao.schemas import FeaturedPaper, Paper

DATA = Path(__file__).parent.parent / "data" / "minilm"
PAPERS = DATA / "recall_papers.json"
FLAGS = DATA / "recall_flags.json"
THRESHOLDS = (0.85, 0.8, 0.75, 0.7)


def _paper(row: dict[str, str]) -> Paper:
    return Paper(
        arxiv_id=row["id"],
        title=row["title"],
        title_display=row["title"],
        abstract=row["abstract"],
        abstract_display=row["abstract"],
        primary_category="cs.AI",
        announced=dt.date.fromisoformat(row["day"]),
    )


def remember_rows(store: MemoryStore, date: dt.date, rows: Sequence[dict[str, str]], run_id: str) -> int:
    """Remember papers (dicts with `id`, `title`, `abstract`) as the notable picks of `date`, ranked
    in order; return the number stored."""
    featured = [
        FeaturedPaper(
            arxiv_id=r["id"],
            title=r["title"],
            abstract=r["abstract"],
            date=date,
            tier="notable",
            rank=rank,
            run_id=run_id,
        )  # fmt: skip
        for rank, r in enumerate(rows, start=1)
    ]
    return store.remember(date, featured)


def recall_flags(embedder: Embedder, folder: Path) -> dict[str, list[list[object]]]:
    """Remember the memory papers by day in a store at `folder`, recall each candidate day; return
    the flags per threshold as ``[candidate, similar_to, featured_on, similarity]`` rows, sorted."""
    data = json.loads(PAPERS.read_text(encoding="utf-8"))
    # The day cache keeps the candidates' vectors across the thresholds: embedded once.
    store = MemoryStore.open(folder / "memory", embedder=embedder, vectors_dir=folder / "vectors")
    by_day: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in data["memory"]:
        by_day[row["day"]].append(row)
    for day, rows in sorted(by_day.items()):
        remember_rows(store, dt.date.fromisoformat(day), rows, "real-days")
    candidates: dict[str, list[Paper]] = defaultdict(list)
    for row in data["candidates"]:
        candidates[row["day"]].append(_paper(row))
    out: dict[str, list[list[object]]] = {}
    for threshold in THRESHOLDS:
        rows: list[list[object]] = []
        for day, papers in sorted(candidates.items()):
            for f in store.near_duplicates(papers, dt.date.fromisoformat(day), threshold=threshold):
                rows.append([f.arxiv_id, f.similar_to, f.featured_on.isoformat(), round(f.similarity, 5)])
        out[str(threshold)] = sorted(rows)
    return out
