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
import os
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


def server_cpu(pid: int) -> float:
    """Return the CPU seconds used so far by the postmaster `pid` and its backends, live and ended (from
    /proc: the postmaster's own times include those of the children it has reaped)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def one_run(folder: Path, url: str | None) -> tuple[float, float]:
    """Run the sample day once in a fresh home under `folder`; return wall and ribao's CPU seconds."""
    settings = sample_settings(folder, store=StoreSettings(url=url))
    settings = settings.model_copy(update={"memory": settings.memory.model_copy(update={"enabled": False})})
    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(write_day(Services(settings, models()), None, tracer=Tracer(quiet=True)))
    return time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_backends.py")
    p.add_argument("--runs", type=int, default=5, help="timed runs per backend, after one warm-up run")
    opts = p.parse_args(argv)
    server = start_postgres()
    try:
        url = server.create_database("bench")
        walls: dict[str, list[float]] = {}
        cpus: dict[str, list[float]] = {}
        with tempfile.TemporaryDirectory(prefix="ribao-bench-") as tmp:
            for i in range(opts.runs + 1):  # alternate, so load on the shared machine hits both alike
                for name, target in (("sqlite", None), ("postgres", url)):
                    before = server_cpu(server.pid)
                    wall, cpu = one_run(Path(tmp) / f"{name}-{i}", target)
                    if i:  # the first round warms imports and caches up
                        walls.setdefault(name, []).append(wall)
                        cpus.setdefault(name, []).append(cpu + server_cpu(server.pid) - before)
    finally:
        server.stop()
    print(f"load avg  {os.getloadavg()[0]:.2f} (1 min; {os.cpu_count()} CPUs)")
    for name in walls:
        w, c = walls[name], cpus[name]
        print(
            f"{name:9} wall median {statistics.median(w):.3f} s per run (min {min(w):.3f}, max {max(w):.3f});"
            f" CPU median {statistics.median(c):.3f} s (ribao + the Postgres server); {len(w)} runs"
        )
    for what, data in (("wall", walls), ("CPU", cpus)):
        ratio = statistics.median(data["postgres"]) / statistics.median(data["sqlite"])
        print(f"ratio     {what} postgres / sqlite = {ratio:.2f} (target <= 1.3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
