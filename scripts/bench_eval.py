"""Benchmark `ribao eval`: how long the metrics of a recorded experiment take to recompute.

Records the four bundled February days (2026-02-17 … 2026-02-20, 1,116 candidates; scripted agents,
no model) in a fresh temporary home, stores the captured Hugging Face references, and records two
experiments of three screener replays per day each (picks drawn from each day's shortlist, seeded).
Then times, in-process and as a `ribao eval compare` process (start-up included):
the first scoring (outputs read from the checkpoints, then cached) and a recompute (cached outputs).
Prints figures; asserts nothing (the target is ≤ 2 s for a recompute).

    .venv/bin/python scripts/bench_eval.py [--data ../shared/data/arxiv] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ribao.app.evals import compare_versions, run_outputs, score_runs  # noqa: E402
from ribao.evals.outputs import outputs_file  # noqa: E402
from ribao.runs.db import RunLog  # noqa: E402
from ribao.settings import MemorySettings, Settings  # noqa: E402
from tests.support.eval_runs import experiment, fake_replay  # noqa: E402
from tests.support.graph import models, run  # noqa: E402
from tests.support.hf_daily import HFDaily  # noqa: E402

DAYS = ("2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20")


def record(home: Path, data: Path) -> list[str]:
    """Run each bundled day once with the scripted agents; return the run ids."""
    ids = []
    for day in DAYS:
        settings = Settings(
            home=home,
            source=str(data / f"{day}.cs.jsonl"),
            out_dir=home / "out",
            memory=MemorySettings(embedder="hash"),
        )
        ids.append(run(settings, None, models()).run_id)
    return ids


def replays(home: Path, runs: list[str], name: str, repeat: int, seed: int) -> str:
    """Record `repeat` screener replays per run, picks drawn from its shortlist; return the experiment id."""
    rng = random.Random(seed)
    mapping: dict[str, list[str]] = {}
    with RunLog.open(home) as log:
        rows = {rid: log.get_run(rid) for rid in runs}
    for rid in runs:
        base = run_outputs(home, rows[rid])
        for n in range(repeat):
            replay_id = f"{rid[:-6]}{name[:2].upper()}{seed % 10}{n:03d}"
            fake_replay(home, rid, replay_id, rng.sample(base.shortlist, len(base.picks)))
            mapping.setdefault(rid, []).append(replay_id)
    return experiment(home, name, mapping).id


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_eval.py")
    p.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared/data/arxiv"
    )
    p.add_argument("--repeat", type=int, default=3)
    opts = p.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="bench-eval-")) / "home"
    t = time.perf_counter()
    runs = record(home, opts.data)
    print(f"recorded     {len(runs)} days with scripted agents in {time.perf_counter() - t:.1f} s")
    stub = HFDaily()
    env = {**os.environ, "RIBAO_HOME": str(home), "RIBAO_EVAL__HF_ENDPOINT": stub.endpoint}
    cli = [sys.executable, "-m", "ribao"]
    subprocess.run([*cli, "eval", "refs", "fetch", "--from", DAYS[0], "--to", DAYS[-1]], env=env, check=True,
                   capture_output=True)  # fmt: skip
    stub.server.shutdown()
    a = replays(home, runs, "alpha", opts.repeat, 1)
    b = replays(home, runs, "beta", opts.repeat, 2)
    for rid in runs:  # the base runs' outputs are cached by the replays above: read them cold again
        outputs_file(home, rid).unlink()
    scored = len(runs) * (2 * opts.repeat)
    t = time.perf_counter()
    score_runs(home, runs)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    report = compare_versions(home, a, b)  # the experiments' outputs are saved: a recompute
    warm = time.perf_counter() - t
    t = time.perf_counter()
    done = subprocess.run([*cli, "eval", "compare", a, b, "--json"], env=env, capture_output=True, text=True)
    process = time.perf_counter() - t
    candidates = sum(len(report.outputs[v[0]].candidates) for v in report.base.runs.values())
    print(
        f"experiments  2 × {len(runs)} days × {opts.repeat} replays: {scored} runs, {candidates:,} candidates"
    )
    print(f"in-process   {cold:.2f} s to score the 4 base runs from their checkpoints; compare {warm:.2f} s")
    print(
        f"process      {process:.2f} s `ribao eval compare A B --json`, start-up too (exit {done.returncode})"
    )
    print(f"rows         {len(report.table.rows)} metrics, {len(report.table.regressions)} regression(s)")
    print(f"load avg     {os.getloadavg()[0]:.2f} (1 min; {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
