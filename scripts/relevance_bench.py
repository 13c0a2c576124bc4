"""Benchmark relevance (ribao/profiles/relevance.py) on one day: own time, embedding time, peak RSS.

    .venv/bin/python scripts/relevance_bench.py [../shared/data/arxiv/2026-02-17.cs.jsonl]

Scores every candidate of the listing (471 papers on 2026-02-17) for the bundled example profile
(5 keywords, 4 seed papers) plus the 3-paper test library and 20 liked and 20 disliked papers of
that day, with the shipped MiniLM embedder loaded first. Prints, for a cold run (every candidate
embedded) and a warm one (the candidates' vectors already in the day cache, as the memory's recall
leaves them), the wall time, the part spent inside the embedder, the rest (ribao's own time), and
the process's peak RSS; CPU seconds beside wall, as the machine may be shared. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "arxiv" / "2026-02-17.cs.jsonl"


class Timed:
    """An embedder that adds up the seconds spent inside the real one."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim  # type: ignore[attr-defined]
        self.seconds = 0.0
        self.cpu = 0.0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return self.inner.embed(texts)  # type: ignore[attr-defined,no-any-return]
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu += time.process_time() - cpu


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from ribao.memory.minilm import MiniLMEmbedder
    from ribao.memory.vectors import DayVectors
    from ribao.profiles.build import example_profile
    from ribao.profiles.library import read_library
    from ribao.profiles.resolve import ProfilePaper, ResolvedProfile
    from ribao.profiles.run import RunProfile
    from ribao.profiles.seeds import resolve_seeds
    from ribao.settings_models import ApiOptions
    from ribao.sources.files import read_file

    path = Path(argv[0]) if argv else DEFAULT
    listing = read_file(path, ["cs.CL", "cs.AI", "cs.LG"])
    papers = [p.model_copy(update={"announced": listing.announced}) for p in listing.papers]
    started = time.perf_counter()
    model = MiniLMEmbedder()
    model.embed(["warm-up"])
    load = time.perf_counter() - started
    settings = example_profile()
    with tempfile.TemporaryDirectory() as home:
        seeds = resolve_seeds(settings.seed_papers, home=Path(home), api=ApiOptions(retries=0))
        library = read_library(ROOT / "tests" / "data" / "profiles" / "library.bib")
        rated = [ProfilePaper(p.arxiv_id, p.title, p.abstract, p.announced) for p in papers[::10]]
        profile = ResolvedProfile(
            "example", settings, list(settings.keywords), seeds.papers, library, rated[:20], rated[20:40]
        )
        print(f"{path.name}: {len(papers)} candidates; MiniLM loaded in {load:.2f} s")
        vectors = DayVectors(Path(home) / "embeddings", model.name)
        for label in ("cold", "warm"):
            timed = Timed(model)
            run = RunProfile(profile, timed, vectors)  # type: ignore[arg-type]
            started, cpu = time.perf_counter(), time.process_time()
            scores = run.relevance(papers)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"{label}: {len(scores)} scored in {wall:.2f} s wall; embedding {timed.seconds:.2f} s wall"
                f" ({timed.cpu:.2f} s CPU); ribao's own {wall - timed.seconds:.2f} s wall"
                f" ({cpu - timed.cpu:.2f} s CPU)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
