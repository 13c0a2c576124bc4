"""Compare two recorded runs (`ribao runs diff A B`): a run and its replay, or two days."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from ribao.prompts import PACKAGE_DIR
from ribao.runs.db import RunLog
from ribao.runs.diff import RunDiff, diff_runs
from ribao.runs.rows import RunRow
from ribao.settings import Settings


def prompt_texts(runs: Iterable[RunRow], folders: Iterable[Path]) -> dict[str, str]:
    """Return sha256 -> text of each prompt-file version the runs used that can still be read.

    The run log keeps a file's path and hash, not its text: a version is found where the run read
    it, in the packaged prompts, or in one of `folders`, and only when the bytes there still hash
    the same (an edited file's earlier version is gone).
    """
    runs = list(runs)
    folders = [*folders, *(Path(r.settings["prompts_dir"]) for r in runs if r.settings.get("prompts_dir"))]
    texts: dict[str, str] = {}
    for run in runs:
        for rel, entry in run.prompts.items():
            sha = entry.get("sha256", "")
            if sha in texts:
                continue
            places = [Path(entry["path"])] if entry.get("path") else []
            for path in [*places, PACKAGE_DIR / rel, *(f / rel for f in folders)]:
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if hashlib.sha256(data).hexdigest() == sha:
                    texts[sha] = data.decode("utf-8", errors="replace")
                    break
    return texts


def diff_recorded(settings: Settings, ref_a: str, ref_b: str) -> RunDiff:
    """Return what differs from run `ref_a` to run `ref_b` (ids, unique prefixes or ``latest``) in the
    run log of `settings.home`. Raises `RunNotFound` for an unknown or ambiguous reference."""
    with RunLog.open(settings.home) as log:
        a, b = log.get_run(ref_a), log.get_run(ref_b)
        calls_a, calls_b = log.calls(a.run_id), log.calls(b.run_id)
    texts = prompt_texts([a, b], [settings.prompts_folder])
    return diff_runs(a, b, calls_a, calls_b, texts)
