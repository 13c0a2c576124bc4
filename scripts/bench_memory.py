"""Benchmark the memory: what a year of digests costs a day's run with an instant model.

    .venv/bin/python scripts/bench_memory.py [../shared/data/arxiv/2026-02-17.cs.jsonl] \
        [--days 250] [--per-day 13] [--embedder minilm|hash] [--rebuild]

Builds a year-sized memory once (cached under ~/.cache/ribao-bench/): `--days` announcement days
before the listing's day with `--per-day` featured papers each, taken from the real papers of the
other days in the listing's folder (2,544 beside 2026-02-17); when the year needs more papers than
there are, the pool is reused under made-up ids (``9901.00001``...). Then runs the listing against
the simulated provider (scripts/sim_provider.py) with an instant model, each run a fresh process
in a fresh home:

1. memory off, twice (the first run warms the simulator's tokenizer and the file cache);
2. the year memory, first run of the day (nothing cached);
3. the same home again: a re-run (the day's vectors are cached).

and prints, per run, the wall time (= ribao's own time: the model answers at once), the seconds of
`recall_memory`, `flag_near_duplicates` and `remember_digest`, the busiest nodes and the process's
peak RSS (VmHWM); then
the time the memory adds (against the second run without memory). Asserts nothing: speed is
shown here, not tested.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
DEFAULT_LISTING = ROOT.parent / "shared" / "data" / "arxiv" / "2026-02-17.cs.jsonl"
CACHE = Path.home() / ".cache" / "ribao-bench"


def past_days(before: dt.date, count: int) -> list[dt.date]:
    """Return `count` weekdays before `before`, oldest first (a year of announcement days is ~250)."""
    days: list[dt.date] = []
    day = before
    while len(days) < count:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days[::-1]


def year_of_papers(listing: Path, days: int, per_day: int) -> dict[dt.date, list[dict[str, str]]]:
    """Return the featured papers of each past day: real papers of the other real days, reused
    under made-up ids when the year needs more. Papers of the run's own listing are left out."""
    run_ids = {json.loads(line)["id"] for line in listing.read_text(encoding="utf-8").splitlines()}
    pool: dict[str, dict[str, str]] = {}
    for other in sorted(listing.parent.glob("*.cs.jsonl")):
        if other == listing:
            continue
        for line in other.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["id"] not in run_ids:
                pool.setdefault(row["id"], {"title": row["title"], "abstract": row["abstract"]})
    papers = list(pool.items())
    run_day = dt.date.fromisoformat(listing.name[:10])
    year: dict[dt.date, list[dict[str, str]]] = {}
    n = 0
    for day in past_days(run_day, days):
        rows = []
        for _ in range(per_day):
            pid, paper = papers[n % len(papers)]
            if n >= len(papers):
                pid = f"9901.{n:05d}"
            rows.append({"id": pid, **paper})
            n += 1
        year[day] = rows
    return year


class Precomputed:
    """An embedder answering from vectors computed in one batch (building the year is setup)."""

    def __init__(self, name: str, dim: int, vectors: dict[str, list[float]]) -> None:
        self.name, self.dim, self.vectors = name, dim, vectors

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vectors[t] for t in texts]


def build_memory(listing: Path, days: int, per_day: int, embedder_name: str, rebuild: bool) -> Path:
    """Return the folder of the year memory (built once per settings, then reused)."""
    from ribao.memory import MemoryStore, make_embedder
    from ribao.memory.records import record_text
    from tests.support.recall_days import remember_rows

    key = hashlib.sha256(f"{listing.name}|{days}|{per_day}|{embedder_name}".encode()).hexdigest()[:12]
    folder = CACHE / f"year-memory-{key}"
    if folder.exists() and not rebuild:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    year = year_of_papers(listing, days, per_day)
    embedder = make_embedder(embedder_name)
    texts = sorted({record_text(p["title"], p["abstract"]) for rows in year.values() for p in rows})
    started = time.perf_counter()
    vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    print(f"built the year: embedded {len(texts):,} distinct texts in {time.perf_counter() - started:.1f} s")
    store = MemoryStore.open(folder, embedder=Precomputed(embedder.name, embedder.dim, vectors))
    for day, rows in year.items():
        remember_rows(store, day, rows, "bench-year")
    stats = store.stats()
    print(f"year memory: {stats.count:,} papers on {len(stats.dates)} days, {folder}")
    return folder


def _vm_hwm_kb(pid: int) -> int:
    """Return the peak resident set (VmHWM) of a live process in KiB, 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def run_day(listing: Path, home: Path, memory: str | None, embedder: str, base_url: str) -> dict[str, object]:
    """Run the listing in `home` in a fresh process; return wall, node seconds, counts and peak RSS."""
    enabled = "true" if memory is not None else "false"
    config = (
        f'llm = "sim"\n[providers.sim]\nbase_url = "{base_url}"\napi_key_env = "SIM_KEY"\n'
        f'model = "sim-chat"\nmax_concurrency = 32\n[memory]\nenabled = {enabled}\nembedder = "{embedder}"\n'
        "[fulltext]\nenabled = false\n"
    )
    (home / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "RIBAO_HOME": str(home), "SIM_KEY": "sk-sim"}
    out_dir = str(home / "out")
    cmd = [sys.executable, "-m", "ribao", "run", "--source", str(listing), "--quiet", "--out", out_dir]
    started = time.perf_counter()
    peak_kb = 0
    with (home / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=err)
        while True:
            # VmHWM is the process's own high-water mark (ru_maxrss of a child can include the
            # parent's size at fork time): read it until the process ends.
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
    wall = time.perf_counter() - started
    code = proc.returncode = os.waitstatus_to_exitcode(status)
    out: dict[str, object] = {"wall": wall, "rss_mb": peak_kb / 1024, "code": code}
    if code != 0:
        out["error"] = (home / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip()[-300:]
        return out
    from ribao.runs.db import RunLog

    nodes: dict[str, float] = {}
    with RunLog.open(home) as log:
        run = log.list_runs()[0]
        for n in log.nodes(run.run_id):
            if n.duration_s is not None:
                nodes[n.node] = nodes.get(n.node, 0.0) + n.duration_s
    memory_nodes = ("recall_memory", "flag_near_duplicates", "remember_digest")
    out.update(nodes=nodes, **{k: v for k, v in nodes.items() if k in memory_nodes})
    return out


def main(argv: list[str]) -> int:
    """Build the year, run the day three ways, print the figures."""
    p = argparse.ArgumentParser(prog="bench_memory.py", description=__doc__.splitlines()[0])
    p.add_argument("listing", nargs="?", type=Path, default=DEFAULT_LISTING)
    p.add_argument("--days", type=int, default=250)
    p.add_argument("--per-day", type=int, default=13)
    p.add_argument("--embedder", default="minilm")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached year memory")
    opts = p.parse_args(argv)
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import sim_provider

    listing = opts.listing.resolve()
    n_papers = len(listing.read_text(encoding="utf-8").splitlines())
    year = build_memory(listing, opts.days, opts.per_day, opts.embedder, opts.rebuild)
    stub, _model = sim_provider.start(0.0, 0.0, 0.0)  # rate 0: every answer at once
    tmp = Path(tempfile.mkdtemp(prefix="ribao-bench-memory-"))
    rows: list[tuple[str, dict[str, object]]] = []
    try:
        for n, name in enumerate(("memory off (warm-up)", "memory off")):
            off = tmp / f"off-{n}"
            off.mkdir()
            rows.append((name, run_day(listing, off, None, opts.embedder, stub.base_url)))
        home = tmp / "year"
        home.mkdir()
        shutil.copytree(year, home / "memory")
        rows.append(("year memory, first run", run_day(listing, home, "year", opts.embedder, stub.base_url)))
        rows.append(("year memory, re-run", run_day(listing, home, "year", opts.embedder, stub.base_url)))
    finally:
        stub.__exit__(None, None, None)
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"day          {listing.name}: {n_papers} papers; instant model; memory {opts.days} days x "
        f"{opts.per_day} papers; embedder {opts.embedder}; "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(
        f"{'run':<26}{'exit':>5}{'wall s':>8}{'recall s':>10}{'flag s':>8}{'remember s':>12}"
        f"{'peak RSS MB':>13}"
    )
    for name, r in rows:
        recall, flag, remember = (
            f"{r[node]:.1f}" if node in r else "-"
            for node in ("recall_memory", "flag_near_duplicates", "remember_digest")
        )
        print(
            f"{name:<26}{r['code']:>5}{r['wall']:>8.1f}{recall:>10}{flag:>8}{remember:>12}{r['rss_mb']:>13.0f}"
        )
        if r.get("error"):
            print(f"  error: {r['error']}")
        if r.get("nodes"):
            busiest = sorted(r["nodes"].items(), key=lambda kv: -kv[1])[:5]  # type: ignore[attr-defined]
            print("  node seconds (tasks summed): " + ", ".join(f"{k} {v:.1f}" for k, v in busiest))
    base = float(rows[1][1]["wall"])  # type: ignore[arg-type]
    for name, r in rows[2:]:
        print(f"added by the memory ({name}): {float(r['wall']) - base:+.1f} s")  # type: ignore[arg-type]
    return max(int(r["code"]) for _, r in rows)  # type: ignore[call-overload]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
