"""Benchmark a full run: wall time, time per node, calls/tokens/cost per agent, peak memory.

Runs `ribao demo` (or `ribao run ARGS…`) in a fresh temporary home, then reads the run log.
Prints figures; asserts nothing (speed belongs here, not in timed tests).

    .venv/bin/python scripts/benchmark.py                      # the offline demo with the local model
    .venv/bin/python scripts/benchmark.py run --llm deepseek --date 2026-02-18 --source arxiv
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run once and print the figures; returns the run's exit status."""
    args = argv or ["demo"]
    with tempfile.TemporaryDirectory(prefix="ribao-bench-") as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "RIBAO_HOME": str(home)}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "ribao", *args, "--quiet", "--out", str(Path(tmp) / "out")],
            env=env,
            cwd=tmp,
        )
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"command      ribao {' '.join(args)}")
        print(f"exit status  {done.returncode}")
        print(f"wall time    {wall:.1f} s")
        print(f"peak RSS     {peak_mb:.0f} MB (largest child: ribao or the llama.cpp server)")
        if done.returncode != 0 or not (home / "runs.sqlite").exists():
            return done.returncode
        from ribao.runs.db import RunLog

        with RunLog.open(home) as log:
            run = log.list_runs()[0]
            nodes = log.nodes(run.run_id)
            usage = log.usage_by_agent(run.run_id)
        per_node: dict[str, list[float]] = defaultdict(list)
        for n in nodes:
            if n.duration_s is not None:
                per_node[n.node].append(n.duration_s)
        print(f"\nrun {run.run_id}: {run.date}, {len(run.picks)} picks, status {run.status}")
        # Writer tasks run in parallel: their seconds add up to more than the node's wall time.
        print(f"{'node':<18}{'tasks':>6}{'seconds':>10}")
        for node, secs in per_node.items():
            print(f"{node:<18}{len(secs):>6}{sum(secs):>10.1f}")
        print(f"\n{'agent':<10}{'calls':>6}{'input':>10}{'output':>9}{'cost':>12}")
        for agent, u in usage.items():
            cost = "unknown" if u.cost is None else f"{u.cost:.4f}"
            print(f"{agent:<10}{u.calls:>6}{u.input_tokens:>10,}{u.output_tokens:>9,}{cost:>12}")
        total = "unknown" if run.cost is None else f"{run.cost:.4f} {run.currency}"
        print(f"{'total':<10}{'':>6}{run.input_tokens:>10,}{run.output_tokens:>9,}{total:>12}")
        return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
