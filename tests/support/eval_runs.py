"""A home with one recorded run of the sample day (scripted agents), its references, and replays
whose outputs are made up: for the `ribao eval` tests (no tests here)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ribao.app.evals import run_outputs
from ribao.evals.experiments import Experiment, save
from ribao.evals.outputs import RunOutputs, save_outputs
from ribao.evals.refs import FeaturedDay, FeaturedPaper, refs_dir
from ribao.runs.db import RunLog
from tests.support.graph import models, run, sample_settings

DATA = Path(__file__).resolve().parent.parent / "data" / "hf-daily"
DAY = dt.date(2026, 2, 18)


def featured(day: dt.date = DAY) -> dict[str, int]:
    """Return the captured featured papers of `day` and their upvotes."""
    papers = json.loads((DATA / f"{day}.json").read_text(encoding="utf-8"))["papers"]
    return {p["paper_id"]: p["upvotes"] for p in papers}


def store_references(home: Path) -> None:
    """Store the captured 2026-02-18 as fetched, and the five days after as fetched and empty."""
    now = dt.datetime.now(dt.UTC)
    for n in range(6):
        day = DAY + dt.timedelta(n)
        papers = (
            [FeaturedPaper(arxiv_id=i, upvotes=u, read_at=now) for i, u in featured(day).items()]
            if n == 0
            else []
        )
        path = refs_dir(home) / "hf" / f"{day}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            FeaturedDay(date=day, endpoint="captured", read_at=now, papers=papers).model_dump_json()
        )


def recorded_home(tmp_path: Path) -> tuple[Path, str]:
    """Run the sample day once with the scripted agents; return the home and the run id."""
    settings = sample_settings(tmp_path)
    result = run(settings, None, models())
    return settings.home, result.run_id


def fake_replay(home: Path, base_id: str, replay_id: str, picks: list[str]) -> RunOutputs:
    """Record a screener replay of `base_id` whose picks are `picks` (in rank order, other fields as
    the base pick in that rank), its outputs saved as `ribao eval run` would."""
    with RunLog.open(home) as log:
        base_row = log.get_run(base_id)
        labels = {"replay_of": base_id, "replay_agent": "screener"}
        log.start_run(replay_id, settings={**base_row.settings, **labels}, date=base_row.date)
        log.finish_run(replay_id, status="replay")
    base = run_outputs(home, base_row)
    new_picks = [p.model_copy(update={"arxiv_id": pid}) for p, pid in zip(base.picks, picks, strict=True)]
    outputs = base.replaced(replay_id, picks=new_picks)
    save_outputs(home, outputs)
    return outputs


def experiment(home: Path, name: str, runs: dict[str, list[str]]) -> Experiment:
    """Record an experiment of `runs` (base run → replays) under `name`."""
    exp = Experiment(name=name, agents=["screener"], runs=runs)
    save(home, exp)
    return exp
