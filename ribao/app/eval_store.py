"""`ribao eval refs` and `ribao eval baseline|list`: the references and experiments under the home folder."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from ribao.errors import EvalNotFound, RunNotFound
from ribao.evals import experiments, refs
from ribao.runs.db import RunLog
from ribao.settings import load_settings


def _home(home: Path | None) -> Path:
    return home or load_settings().home


def fetch_references(
    start: dt.date, end: dt.date, *, home: Path | None = None, archive: Path | None = None
) -> list[refs.FeaturedDay]:
    """Fetch and store the Hugging Face featured days of listing days `start`..`end` (`eval.hf_endpoint`,
    or the saved days in folder `archive`)."""
    settings = load_settings()
    return refs.fetch_refs(home or settings.home, settings.eval.hf_endpoint, start, end, archive=archive)


def import_references(path: Path, *, home: Path | None = None) -> dict[str, int]:
    """Import a CSV of ``arxiv_id,grade`` into the stored grades; return the file's grades."""
    return refs.import_labels(_home(home), path)


def list_experiments(*, home: Path | None = None) -> tuple[list[experiments.Experiment], str | None]:
    """Return the experiments on record, oldest first, and the pinned baseline's id (None if none)."""
    home = _home(home)
    found = experiments.list_experiments(home)
    try:
        pinned: str | None = experiments.pinned_baseline(home).id
    except EvalNotFound:
        pinned = None
    return found, pinned


def pin_baseline(refs: list[str], *, home: Path | None = None) -> experiments.Experiment:
    """Pin the experiment one ref names as the baseline, or else make an experiment of the runs `refs`
    name as they ran (no replays) and pin that; return it. Raises `EvalNotFound` naming the ref."""
    settings = load_settings()
    home = home or settings.home
    if len(refs) == 1:
        with contextlib.suppress(EvalNotFound):
            return experiments.pin_baseline(home, refs[0])
    with RunLog.open(home, url=settings.store.url) as log:
        rows = []
        for ref in refs:
            try:
                rows.append(log.get_run(ref))
            except RunNotFound:
                raise EvalNotFound(
                    f"no experiment or run {ref!r} (see `ribao eval list`, `ribao runs list`)"
                ) from None
    exp = experiments.Experiment(
        name="runs " + ",".join(r.run_id[:10] for r in rows),
        prompts={f: p for r in rows for f, p in r.prompts.items()},
        runs={r.run_id: [] for r in rows},
    )
    experiments.save(home, exp)
    return experiments.pin_baseline(home, exp.id)


def show_baseline(*, home: Path | None = None) -> experiments.Experiment:
    """Return the pinned baseline; raises `EvalNotFound` when none is pinned."""
    return experiments.pinned_baseline(_home(home))
