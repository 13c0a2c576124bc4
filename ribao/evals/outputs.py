"""What a run produced, as the metrics read it: one `RunOutputs` per run, cached under the home folder.

A recorded run's outputs come from its checkpoints (the app layer reads them, `ribao.app.evals`);
a replay run has no checkpoints of its own, so whoever makes it writes its `RunOutputs` here with
`save_outputs` (the base run's outputs with the replayed agents' keys replaced, `replaced`).
Files: `<home>/evals/outputs/<run_id>.json`, written atomically.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ribao.errors import EvalError
from ribao.files import write_file
from ribao.schemas import Pick, Summary


class RunOutputs(BaseModel):
    """One run's day as the metrics see it.

    `candidates` are the eligible candidates (listing minus papers featured before) in listing
    order; `triage_scores` the first-pass scores (1-10) by arXiv id; `shortlist` the papers the
    screener ranked, in shortlist order; `picks` the final picks in rank order; `summaries` the
    writer's text by arXiv id; `sources` the text the writer's number guard checked against, by
    arXiv id (title, abstract, comment and the full-text sections it was shown); `titles` the
    display titles of the shortlist and the picks, for reports.
    """

    run_id: str
    date: dt.date | None = None
    candidates: list[str] = Field(default_factory=list)
    triage_scores: dict[str, int] = Field(default_factory=dict)
    shortlist: list[str] = Field(default_factory=list)
    picks: list[Pick] = Field(default_factory=list)
    summaries: dict[str, Summary] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)
    titles: dict[str, str] = Field(default_factory=dict)

    def replaced(self, run_id: str, **outputs: Any) -> RunOutputs:
        """Return these outputs under `run_id` with some keys replaced (a replay's new ``picks`` or
        ``summaries``): picks dropped by the replay lose their summaries."""
        new = self.model_copy(update={"run_id": run_id, **outputs})
        kept = {p.arxiv_id for p in new.picks}
        new.summaries = {pid: s for pid, s in new.summaries.items() if pid in kept}
        return new


def outputs_file(home: Path, run_id: str) -> Path:
    """Return where run `run_id`'s outputs are kept, `<home>/evals/outputs/<run_id>.json`."""
    return home / "evals" / "outputs" / f"{run_id}.json"


def save_outputs(home: Path, outputs: RunOutputs) -> Path:
    """Write `outputs` atomically to its file and return the path."""
    path = outputs_file(home, outputs.run_id)
    write_file(path, outputs.model_dump_json() + "\n")
    return path


def load_outputs(home: Path, run_id: str) -> RunOutputs | None:
    """Return run `run_id`'s saved outputs, None when none were saved; raises `EvalError` when unreadable."""
    path = outputs_file(home, run_id)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    try:
        return RunOutputs.model_validate_json(text)
    except ValidationError as exc:
        raise EvalError(f"{path} is not a run's outputs: {str(exc).splitlines()[0]}") from exc
