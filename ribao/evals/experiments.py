"""Experiments on record: one JSON file each under `<home>/evals/experiments/`, and the pinned baseline.

An experiment names the recorded runs it was made from (the base runs) and, per base run, the
replay runs (ordinary runs in the run log, see `ribao.app.replay`). An experiment without replays
stands for the base runs as they ran, which is how a set of recorded runs becomes a baseline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from ulid import ULID

from ribao.errors import EvalError, EvalNotFound
from ribao.files import write_file


def experiments_dir(home: Path) -> Path:
    """Return the folder of the experiment files, `<home>/evals/experiments`."""
    return home / "evals" / "experiments"


def baseline_file(home: Path) -> Path:
    """Return the file that names the pinned baseline, `<home>/evals/baseline.json`."""
    return home / "evals" / "baseline.json"


def settings_digest(settings: Mapping[str, Any]) -> str:
    """Return the sha256 of `settings` as canonical JSON (sorted keys), to tell runs of equal settings."""
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Experiment(BaseModel):
    """One experiment: which agents were replayed with which model and prompt files, on which runs.

    `prompts` maps a prompt file (``agent/name.md.j2``) to ``{source, path, sha256}`` as the run log
    records them; `runs` maps each base run id to its replay run ids, in the order they ran (several
    with ``--repeat``; none when the experiment is the base runs themselves).
    """

    id: str = Field(default_factory=lambda: str(ULID()))
    name: str = ""
    created_at: dt.datetime = Field(default_factory=_now)
    agents: list[str] = Field(default_factory=list)
    model: str | None = None
    prompts_dir: str | None = None
    prompts: dict[str, dict[str, str]] = Field(default_factory=dict)
    settings_digest: str = ""
    runs: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        """Return the name and short id, for tables."""
        return f"{self.name} ({self.id[:10]})" if self.name else self.id[:10]

    def scored_runs(self) -> dict[str, list[str]]:
        """Return, per base run, the runs whose outputs are this experiment's: its replays, or the base
        run itself when there are none."""
        return {base: list(replays) or [base] for base, replays in self.runs.items()}


def save(home: Path, experiment: Experiment) -> Path:
    """Write `experiment` to `<home>/evals/experiments/<id>.json` atomically and return the path.

    Each experiment has a file of its own, written by a rename: two experiments saved at once
    both survive, and a reader never sees half a file.
    """
    path = experiments_dir(home) / f"{experiment.id}.json"
    write_file(path, experiment.model_dump_json(indent=2) + "\n")
    return path


def _read(path: Path) -> Experiment:
    try:
        return Experiment.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, UnicodeError) as exc:
        raise EvalError(f"cannot read experiment {path}: {exc}".splitlines()[0]) from exc


def list_experiments(home: Path) -> list[Experiment]:
    """Return every recorded experiment, oldest first (ids are ULIDs: ordered by creation)."""
    folder = experiments_dir(home)
    if not folder.is_dir():
        return []
    return sorted((_read(p) for p in folder.glob("*.json")), key=lambda e: e.id)


def load(home: Path, ref: str) -> Experiment:
    """Return the experiment `ref` names: ``baseline`` (the pinned one), ``latest``, an id, a unique
    id prefix (any case), or a name (the newest experiment of that name: names may repeat).

    Raises `EvalNotFound` naming what was looked for.
    """
    ref = ref.strip()
    if ref == "baseline":
        return pinned_baseline(home)
    found = list_experiments(home)
    if ref == "latest" and found:
        return found[-1]
    exact = [e for e in found if e.id == ref.upper()]
    if exact:
        return exact[0]
    prefixed = [e for e in found if ref and e.id.startswith(ref.upper())]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        shown = ", ".join(e.id for e in prefixed[:5])
        raise EvalNotFound(f"experiment id prefix {ref!r} is ambiguous: {shown}; give more characters")
    named = [e for e in found if e.name == ref]
    if named:
        return named[-1]
    raise EvalNotFound(f"no experiment {ref!r} in {experiments_dir(home)} (see `ribao eval list`)")


def pin_baseline(home: Path, ref: str) -> Experiment:
    """Pin the experiment `ref` names as the baseline and return it; it stays until pinned again."""
    experiment = load(home, ref)
    record = {"experiment": experiment.id, "pinned_at": _now().isoformat(timespec="seconds")}
    write_file(baseline_file(home), json.dumps(record, indent=2) + "\n")
    return experiment


def pinned_baseline(home: Path) -> Experiment:
    """Return the pinned baseline experiment; raises `EvalNotFound` when none is pinned."""
    path = baseline_file(home)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalNotFound("no baseline pinned (pin one: `ribao eval baseline pin EXPERIMENT`)") from None
    except (OSError, ValueError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    experiment_id = str(record.get("experiment", ""))
    path = experiments_dir(home) / f"{experiment_id}.json"
    if not path.is_file():
        raise EvalNotFound(f"the pinned baseline {experiment_id!r} is gone from {path.parent}; pin another")
    return _read(path)
