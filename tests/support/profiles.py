"""Reader profiles for tests: the bundled day's papers, a robotics reader, the real MiniLM embedder."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

from ribao.memory.minilm import MiniLMEmbedder
from ribao.profiles.resolve import ProfilePaper, ResolvedProfile
from ribao.schemas import Paper
from ribao.settings_models import ProfileSettings
from ribao.sources.files import read_file
from tests.support.samples import sample_listing

PROFILE_DATA = Path(__file__).parent.parent / "data" / "profiles"
ROBOTICS = ["robot learning", "robotic manipulation", "humanoid robot control", "embodied agents"]


class MemoEmbedder:
    """The shipped all-MiniLM-L6-v2 export, each text embedded once per test process (the day's 180
    abstracts take seconds on a shared CPU; the vectors are MiniLM's own)."""

    def __init__(self) -> None:
        self.inner = MiniLMEmbedder()
        self.name, self.dim = self.inner.name, self.inner.dim
        self.vectors: dict[str, list[float]] = {}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        todo = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if todo:
            self.vectors.update(zip(todo, self.inner.embed(todo), strict=True))
        return [self.vectors[t] for t in texts]


@functools.cache
def embedder() -> MemoEmbedder:
    """The real embedder, memoised, shared by the tests of one process."""
    return MemoEmbedder()


@functools.cache
def bundled_day() -> list[Paper]:
    """The 180 papers of the bundled 2026-02-18 listing, in listing order."""
    return read_file(sample_listing(), ["cs.CL", "cs.AI", "cs.LG"]).papers


def robotics_profile(**settings: object) -> ResolvedProfile:
    """A reader of robot learning, by English keywords only (no seeds, no library)."""
    return ResolvedProfile("robots", ProfileSettings(keywords=ROBOTICS, **settings), keywords=ROBOTICS)  # type: ignore[arg-type]


def is_robotics(paper: Paper) -> bool:
    """Whether arXiv filed the paper under cs.RO (primary or cross-list): the field's own label."""
    return "cs.RO" in paper.categories


def as_profile_papers(papers: list[Paper]) -> list[ProfilePaper]:
    """The papers as a profile holds them (undated)."""
    return [ProfilePaper(p.arxiv_id, p.title, p.abstract, None) for p in papers]


def bundled_seed_records() -> list[dict[str, object]]:
    """The example profile's seed papers as bundled (JSONL records of 2026-02-17)."""
    path = Path(__file__).parent.parent.parent / "ribao" / "data" / "profiles" / "seeds.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]
