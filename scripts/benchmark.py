"""Benchmark a full run: wall time, time per node, calls/tokens/cost per agent, peak memory.

Runs `ribao demo` (or `ribao run ARGS…`) in a fresh temporary home, then reads the run log.
Prints figures; asserts nothing (speed belongs here, not in timed tests).

    .venv/bin/python scripts/benchmark.py                      # the offline demo with the local model
    .venv/bin/python scripts/benchmark.py run --llm deepseek --date 2026-02-18 --source arxiv
    .venv/bin/python scripts/benchmark.py sim ../shared/data/arxiv/2026-02-17.cs.jsonl \
        [--ttft 0.8] [--rate 60] [--jitter 0.15] [--concurrency 32] [--embedder hash|minilm]

`sim` starts a simulated OpenAI-compatible provider (scripts/sim_provider.py: 0.8 s to first
token, 60 tokens/s, ±15 % jitter by default) and runs that listing against it, then prints wall,
critical path (the wall time if every independent call ran at once), their ratio, and ribao's own
overhead (wall minus critical path). `--rate 0` makes the model instant.
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


def sim(argv: list[str]) -> int:
    """Run one listing against the simulated provider and print wall, critical path and ratio."""
    import argparse

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sim_provider

    p = argparse.ArgumentParser(prog="benchmark.py sim")
    p.add_argument("source")
    p.add_argument("--ttft", type=float, default=0.8)
    p.add_argument("--rate", type=float, default=60.0)
    p.add_argument("--jitter", type=float, default=0.15)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--embedder", default="hash")
    opts = p.parse_args(argv)
    stub, model = sim_provider.start(opts.ttft, opts.rate, opts.jitter)
    try:
        config = (
            f'llm = "sim"\n[providers.sim]\nbase_url = "{stub.base_url}"\napi_key_env = "SIM_KEY"\n'
            f'model = "sim-chat"\nmax_concurrency = {opts.concurrency}\n'
            f'[memory]\nembedder = "{opts.embedder}"\n'
        )
        code, wall, home = _run(["run", "--source", opts.source], config, {"SIM_KEY": "sk-sim"})
    finally:
        stub.__exit__(None, None, None)
    cp = model.critical_path()
    print(
        f"provider     simulated: {opts.ttft} s to first token, {opts.rate} tok/s, "
        f"±{opts.jitter:.0%} jitter, "
        f"max_concurrency {opts.concurrency}, embedder {opts.embedder}"
    )
    print(
        f"requests     {len(model.served)}, tokens in/out {sum(s.tokens_in for s in model.served):,} / "
        f"{sum(s.tokens_out for s in model.served):,} (estimated by the simulator)"
    )
    print(
        f"critical     {cp:.1f} s   ratio wall/critical {wall / cp if cp else float('nan'):.2f}   "
        f"ribao overhead {wall - cp:.1f} s"
    )
    return code


def _run(args: list[str], config: str | None, extra_env: dict[str, str]) -> tuple[int, float, Path]:
    tmp = tempfile.mkdtemp(prefix="ribao-bench-")
    home = Path(tmp) / "home"
    home.mkdir()
    if config:
        (home / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "RIBAO_HOME": str(home), **extra_env}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ribao", *args, "--quiet", "--out", str(Path(tmp) / "out")], env=env, cwd=tmp
    )
    wall = time.perf_counter() - started
    _report(args, done.returncode, wall, home)
    return done.returncode, wall, home


def main(argv: list[str]) -> int:
    """Run once and print the figures; returns the run's exit status."""
    if argv[:1] == ["sim"]:
        return sim(argv[1:])
    args = argv or ["demo"]
    return _run(args, None, {})[0]


def _report(args: list[str], code: int, wall: float, home: Path) -> None:
    """Print the figures of the run recorded in `home`."""
    if True:  # noqa: SIM108 - keeps the report's body as it was
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"command      ribao {' '.join(args)}")
        print(f"exit status  {code}")
        print(f"wall time    {wall:.1f} s")
        print(f"peak RSS     {peak_mb:.0f} MB (largest child: ribao or the llama.cpp server)")
        if code != 0 or not (home / "runs.sqlite").exists():
            return
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
        return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
