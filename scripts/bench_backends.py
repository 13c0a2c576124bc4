"""Benchmark ribao's own overhead per run with the run log and checkpoints in SQLite vs in Postgres.

Runs the whole graph in this process with instant scripted agents (no provider latency, memory off),
so each run's wall time is ribao's own work: the graph, the checkpoints, the run log. Starts a
throwaway PostgreSQL cluster on a free loopback port (as the tests do) and stops it by PID.
Prints figures; asserts nothing.

    .venv/bin/python scripts/bench_backends.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ribao.app.services import Services  # noqa: E402
from ribao.app.write import write_day  # noqa: E402
from ribao.runs.trace import Tracer  # noqa: E402
from ribao.settings_models import StoreSettings  # noqa: E402
from tests.support.graph import models, sample_settings  # noqa: E402
from tests.support.servers import start_postgres  # noqa: E402


def one_run(folder: Path, url: str | None) -> tuple[float, int]:
    """Run the sample day once in a fresh home under `folder`; return wall seconds and LLM calls."""
    settings = sample_settings(folder, store=StoreSettings(url=url))
    settings = settings.model_copy(update={"memory": settings.memory.model_copy(update={"enabled": False})})
    started = time.perf_counter()
    result = asyncio.run(write_day(Services(settings, models()), None, tracer=Tracer(quiet=True)))
    wall = time.perf_counter() - started
    return wall, result.picks


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_backends.py")
    p.add_argument("--runs", type=int, default=5, help="timed runs per backend, after one warm-up run")
    opts = p.parse_args(argv)
    server = start_postgres()
    try:
        url = server.create_database("bench")
        walls: dict[str, list[float]] = {}
        with tempfile.TemporaryDirectory(prefix="ribao-bench-") as tmp:
            for i in range(opts.runs + 1):  # alternate, so load on the shared machine hits both alike
                for name, target in (("sqlite", None), ("postgres", url)):
                    wall, _ = one_run(Path(tmp) / f"{name}-{i}", target)
                    if i:
                        walls.setdefault(name, []).append(wall)
    finally:
        server.stop()
    for name, values in walls.items():
        print(
            f"{name:9} median {statistics.median(values):.3f} s per run  "
            f"(min {min(values):.3f}, max {max(values):.3f}, {len(values)} runs)"
        )
    ratio = statistics.median(walls["postgres"]) / statistics.median(walls["sqlite"])
    print(f"ratio     postgres / sqlite = {ratio:.2f} (target <= 1.3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
