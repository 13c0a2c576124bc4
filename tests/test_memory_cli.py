"""`ribao memory stats|list|search|forget [--profile P]` over the real embedder, one memory per profile."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ribao.cli import app
from ribao.memory import make_embedder
from ribao.memory.store import DEFAULT_COLLECTION, MemoryStore
from tests.support.memory import DAY_A, DAY_B, PAPERS, featured


def cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def by_title(word: str) -> object:
    return next(p for p in PAPERS if word.lower() in p.title.lower())


def remember(home: Path, profile: str | None, papers: list, day: object) -> None:  # type: ignore[type-arg]
    with MemoryStore.open(home / "memory", embedder=make_embedder("minilm"), profile=profile) as store:
        store.remember(day, featured(papers, day))  # type: ignore[arg-type]


def test_each_profile_remembers_its_own_picks(ribao_home: Path) -> None:
    (ribao_home / "config.toml").write_text('[profiles.alice]\ninterests = "x"\n', encoding="utf-8")
    edu, pet = by_title("EduResearchBench"), by_title("PET Scanners")
    remember(ribao_home, "alice", [edu, pet], DAY_A)
    with MemoryStore.open(ribao_home / "memory", embedder=make_embedder("minilm"), profile="alice") as alice:
        assert [e.arxiv_id for e in alice.featured_before([edu.arxiv_id], DAY_B)] == [edu.arxiv_id]
    with MemoryStore.open(ribao_home / "memory", embedder=make_embedder("minilm")) as default:
        assert default.featured_before([edu.arxiv_id], DAY_B) == []  # still new to the default reader
        assert default.stats().collection == DEFAULT_COLLECTION  # homes from before profiles keep theirs

    stats = json.loads(cli("memory", "stats", "--profile", "alice", "--json").output)
    assert (stats["count"], stats["dates"]) == (2, [DAY_A.isoformat()])
    assert json.loads(cli("memory", "stats", "--json").output)["count"] == 0
    listed = json.loads(cli("memory", "list", "-p", "alice", "--json").output)
    assert {p["arxiv_id"] for p in listed} == {edu.arxiv_id, pet.arxiv_id}


def test_search_finds_the_nearest_paper_by_meaning(ribao_home: Path) -> None:
    papers = [by_title("EduResearchBench"), by_title("PET Scanners"), by_title("CMOS Invertible Logic")]
    remember(ribao_home, None, papers, DAY_A)
    res = cli("memory", "search", "medical imaging reconstruction for tomography", "--json", "-k", "2")
    hits = json.loads(res.output)
    assert hits[0]["paper"]["arxiv_id"] == by_title("PET Scanners").arxiv_id
    assert len(hits) == 2 and hits[0]["similarity"] > hits[1]["similarity"]


def test_forget_lets_a_paper_be_featured_again(ribao_home: Path) -> None:
    edu = by_title("EduResearchBench")
    remember(ribao_home, None, [edu], DAY_A)
    res = cli("memory", "forget", f"arXiv:{edu.arxiv_id}v2")
    assert res.exit_code == 0 and f"forgot arXiv:{edu.arxiv_id}v2" in res.output
    with MemoryStore.open(ribao_home / "memory", embedder=make_embedder("minilm")) as store:
        assert store.featured_before([edu.arxiv_id], DAY_B) == []
    again = cli("memory", "forget", edu.arxiv_id)
    assert again.exit_code == 1 and "is not in the memory" in again.output


def test_an_empty_home_has_no_memory_and_gets_none_created(ribao_home: Path) -> None:
    res = cli("memory", "list")
    assert res.exit_code == 1 and "no memory yet" in res.output
    assert not (ribao_home / "memory").exists()
    assert cli("memory", "stats", "--profile", "nobody").exit_code == 2
