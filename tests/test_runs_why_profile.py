"""`ribao runs why` on a reader profile's run: the shortlist is cut by triage score and relevance, and
the answer says so (the relevance floor, the blended score at the cut), with each pick's relevance."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ribao.app.services import Services
from ribao.app.write import write_day
from ribao.graph.checkpoint import STATE_TYPES
from ribao.profiles.run import RunProfile
from ribao.runs import RunLog
from ribao.runs.page import outcome
from ribao.runs.why import PaperPath, path_of
from ribao.runs.why_text import path_lines
from ribao.settings import MemorySettings
from ribao.state import DigestState
from tests.support.fakes import default_responder
from tests.support.graph import models, sample_settings
from tests.support.profiles import embedder, robotics_profile


def tied_triage(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
    """Every candidate gets the same triage score, so relevance alone orders the shortlist."""
    args = default_responder(name, schema, messages)
    if name == "TriageScores":
        return {"scores": [5] * len(args["scores"])} if "scores" in args else dict.fromkeys(args, 5)
    return args


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """The bundled day written for the robotics reader; yields the home, the run id and round 1's cut
    (with the ids it shortlisted)."""
    tmp = tmp_path_factory.mktemp("why-profile")
    settings = sample_settings(tmp, memory=MemorySettings(enabled=False))
    services = Services(
        settings, dict(models(screener=tied_triage)), profile=RunProfile(robotics_profile(), embedder())
    )
    result = asyncio.run(write_day(services, None))
    with RunLog.open(settings.home) as log:
        rank = next(n.outputs for n in log.nodes(result.run_id) if n.node == "rank_papers")
    cut = {**rank["reader_cut"], "shortlist": [e["arxiv_id"] for e in rank["shortlist"]]}
    yield settings.home, result.run_id, cut


def why(home: Path, run_id: str, pid: str) -> tuple[PaperPath, list[str]]:
    with RunLog.open(home) as log:
        path = path_of(log, run_id, pid)
    return path, path_lines(path)


def test_a_pick_says_its_relevance_and_the_cut_it_made(recorded: tuple[Path, str, dict[str, Any]]) -> None:
    home, run_id, cut = recorded
    with RunLog.open(home) as log:
        first = log.get_run(run_id).picks[0]["arxiv_id"]
    path, lines = why(home, run_id, first)
    assert path.relevance == pytest.approx(cut["relevance"][first], abs=1e-3) and path.evidence
    assert f"relevance to the reader: {path.relevance:.2f} ({path.evidence[0]}" in "\n".join(lines)
    assert (
        f"round 1: made the shortlist (its triage and relevance score {cut['blended'][first]:.2f}, "
        in lines[4]
    ) and "for reader robots" in lines[4]


def test_a_paper_under_the_floor_and_one_below_the_cut(recorded: tuple[Path, str, dict[str, Any]]) -> None:
    home, run_id, cut = recorded
    under = next(pid for pid, r in cut["relevance"].items() if r < 0.3)
    path, lines = why(home, run_id, under)
    assert lines[4] == (
        f"round 1: left out for reader robots — its relevance {cut['relevance'][under]:.2f} is under the "
        "floor 0.3 (its triage score 5)"
    )
    assert outcome(path) == ("cut", "under the relevance floor")  # its label in the run page's candidates
    below = [pid for pid in sorted(cut["blended"], key=cut["blended"].get) if pid not in cut["shortlist"]]
    path, lines = why(home, run_id, below[0])
    assert lines[4].startswith(
        f"round 1: missed the shortlist for reader robots — its triage and relevance score "
        f"{cut['blended'][below[0]]:.2f} (triage 5/10, relevance {cut['relevance'][below[0]]:.2f}), "
    )
    cut_at = float(lines[4].split("the cut at ")[1].split(",")[0])
    assert cut["blended"][below[0]] <= cut_at and outcome(path) == ("cut", "below the cut")
    assert not any("the cut at triage score" in line for line in lines)


def test_every_pydantic_type_in_the_state_may_be_read_back_from_a_checkpoint() -> None:
    """A state type missing from `STATE_TYPES` is blocked when a checkpoint is read (a resume)."""
    found: set[type] = set()

    def walk(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in found:
            found.add(tp)
            for f in tp.model_fields.values():
                walk(f.annotation)
        for arg in typing.get_args(tp):
            walk(arg)

    for hint in typing.get_type_hints(DigestState).values():
        walk(hint)
    assert found - set(STATE_TYPES) == set()
