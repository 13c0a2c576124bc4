"""Benchmark a run of the bundled day with the memory on a Chroma server (or embedded): wall and CPU.

Runs `ribao run` on the bundled 2026-02-18 listing in this process (typer's runner) against the
loopback OpenAI stub of the tests (instant scripted answers, so the figures are ribao's own work and
the memory's), each run in a fresh home, all remembering into one Chroma server started on a free
loopback port (`chroma run`, as the tests do; stopped by PID). The first run warms up (imports, the
embedder's model) and is not counted. Prints the median wall, ribao's CPU (this process, all threads)
and the server's CPU per run; asserts nothing.

    .venv/bin/python scripts/bench_memory_server.py [--runs 5] [--embedder hash|minilm] [--embedded]

`--embedded` keeps the memory in each home's folder instead (no server), for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from typer.testing import CliRunner  # noqa: E402

from ribao.cli import app  # noqa: E402
from tests.support.http_run import SECRET, respond, write_config  # noqa: E402
from tests.support.samples import sample_listing  # noqa: E402
from tests.support.servers import start_chroma  # noqa: E402
from tests.support.stub_openai import StubOpenAI  # noqa: E402


def cpu_of(pid: int) -> float:
    """Return the CPU seconds process `pid` has used (user + system, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(folder: Path, stub: StubOpenAI, embedder: str, url: str | None) -> tuple[float, float]:
    """Write the bundled day once in a fresh home under `folder`; return wall and this process's CPU s."""
    home = folder / "home"
    home.mkdir(parents=True)
    write_config(home, stub.base_url)
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8").replace('embedder = "hash"', f'embedder = "{embedder}"')
    config.write_text(text + "[fulltext]\nenabled = false\n", encoding="utf-8")
    os.environ.update({"RIBAO_HOME": str(home), "STUB_API_KEY": SECRET})
    if url:
        os.environ["RIBAO_MEMORY__URL"] = url
    started, cpu = time.perf_counter(), time.process_time()
    args = ["run", "--source", str(sample_listing()), "--out", str(folder / "out"), "--quiet", "--no-push"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    if result.exit_code != 0:
        raise SystemExit(f"the run failed: {result.output}")
    return wall, used


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_memory_server.py")
    p.add_argument("--runs", type=int, default=5, help="timed runs, after one warm-up run")
    p.add_argument("--embedder", default="hash", choices=["hash", "minilm"])
    p.add_argument("--embedded", action="store_true", help="the memory in each home's folder, no server")
    opts = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ribao-bench-memory-") as tmp, StubOpenAI() as stub:
        stub.responder = respond
        server = None if opts.embedded else start_chroma(Path(tmp) / "store")
        try:
            url = server.url if server else None
            walls, cpus, server_cpus = [], [], []
            for i in range(opts.runs + 1):
                before = cpu_of(server.proc.pid) if server else 0.0
                wall, cpu = one_run(Path(tmp) / f"run{i}", stub, opts.embedder, url)
                if i:
                    walls.append(wall)
                    cpus.append(cpu)
                    server_cpus.append((cpu_of(server.proc.pid) - before) if server else 0.0)
        finally:
            if server:
                server.stop()
    where = "embedded (each home's folder)" if opts.embedded else "a Chroma server on loopback"
    print(f"memory       {where}, embedder {opts.embedder}; {opts.runs} runs of the bundled day + a warm-up")
    print(f"wall         median {statistics.median(walls):.2f} s, min {min(walls):.2f}, max {max(walls):.2f}")
    print(f"ribao CPU    median {statistics.median(cpus):.2f} s")
    if server:
        print(f"server CPU   median {statistics.median(server_cpus):.2f} s")
    print(f"load avg     {os.getloadavg()[0]:.2f} (1 min; {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
