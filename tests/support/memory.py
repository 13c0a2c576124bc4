"""Featured papers and near copies for the memory tests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from ribao.memory import HashEmbedder
from ribao.memory.export import default_model_dir
from ribao.schemas import FeaturedPaper, Paper

LISTING = Path(__file__).resolve().parents[2] / "ribao" / "data" / "2026-02-18.cs.jsonl"
DAY_A = dt.date(2026, 2, 17)
DAY_B = dt.date(2026, 2, 18)
LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


class NetworkAttempt(AssertionError):
    """Raised by the guards when code under test tries to leave the machine."""


def load_papers() -> list[Paper]:
    """Read the 180 papers of the 2026-02-18 cs listing as `Paper` objects."""
    papers = []
    for line in LISTING.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        papers.append(
            Paper(
                arxiv_id=row["id"],
                title=row["title"],
                title_display=row["title"],
                abstract=row["abstract"],
                authors=row["authors"],
                categories=row["categories"],
                primary_category=row["primary_category"],
                comment=row["comment"],
                announced=dt.date.fromisoformat(row["announced"]),
            )
        )
    return papers


PAPERS = load_papers()


def featured(papers: Sequence[Paper], date: dt.date) -> list[FeaturedPaper]:
    """Turn papers into the featured records of one digest day, ranked in order."""
    return [
        FeaturedPaper(
            arxiv_id=p.arxiv_id,
            title=p.title,
            abstract=p.abstract,
            date=date,
            tier="must_read" if rank <= 3 else "notable",
            rank=rank,
            run_id="run-test",
        )
        for rank, p in enumerate(papers, start=1)
    ]


class CountingEmbedder(HashEmbedder):
    """A hash embedder that counts the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return super().embed(texts)


def ids(papers: Sequence[Paper]) -> list[str]:
    return [p.arxiv_id for p in papers]


def near_copy(paper: Paper, new_id: str) -> Paper:
    """Return the same work under another id, with a lightly edited title and abstract."""
    return paper.model_copy(
        update={
            "arxiv_id": new_id,
            "title": paper.title + " (extended version)",
            "abstract": paper.abstract.replace("We ", "Here we ", 1) + " Code is available.",
        }
    )


def needs_export() -> Path:
    """Return the installed ONNX export (scripts/setup.sh makes it) or skip the test."""
    folder = default_model_dir()
    if not (folder / "manifest.json").is_file():
        pytest.skip(f"no MiniLM ONNX export at {folder}; run scripts/setup.sh")
    return folder
