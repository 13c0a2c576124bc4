"""Benchmark workers: backfill days on the Postgres queue, one worker against three (one killed mid-run).

Starts a throwaway PostgreSQL cluster, a Chroma server per phase and the simulated provider
(scripts/sim_provider.py: 0.8 s to first token, 60 tok/s by default), then, for the same jobs
(`ribao backfill` of the listing days in --from..--to from a folder of saved listings):

1. one `ribao worker --until-empty --concurrency 1` (the single-process reference, one job at a time);
2. three `ribao worker`s at once (their default concurrency), one of them killed with kill -9 once
   --kill-at of the reference's requests have been served; the survivors requeue its jobs, which
   resume from their checkpoints (`--kill-at 0`: no kill). With `--compare-kill` the three workers
   run twice, without a kill and then with it, so the kill's cost is separate from the workers'.

Workers log to files in the phase's home: a piped log nobody reads stalls a worker once the pipe's
buffer (64 KiB) is full.

The critical path of a run is the longest chain of dependent calls of that run: its stages run one
after another and a stage's calls at once, so it is the sum over the run's stages of the stage's
slowest request (time to first token + output at the provider's rate), taken from the reference
(one job at a time, so each request is matched to the run during which it arrived in the run log).
The critical path of a day is its slowest run's: with the provider allowing the concurrency, all
of that day's runs (and all days) can run at once, so no wall time can beat the slowest run's path.

Prints: digests written (and jobs per status), wall times, the critical path of each day (measured in
the reference, where days run one after another), requests per tool in both phases (what the kill
repaid), run-log and memory counts. Asserts nothing.

    .venv/bin/python scripts/scale_bench.py [--listings ../shared/data/arxiv] [--from 2026-02-17]
        [--to 2026-02-20] [--ttft 0.8] [--rate 60] [--workers 3] [--kill-at 0.3] [--compare-kill]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import queue_home  # noqa: E402
import scale_timeline  # noqa: E402
import sim_provider  # noqa: E402

from tests.support.servers import start_chroma, start_postgres  # noqa: E402


def _jobs(url: str) -> collections.Counter[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'ribao.write_digest'"
        )
        return collections.Counter(r[0] for r in rows.fetchall())


def _counts(url: str) -> dict[str, int]:
    """Run-log counts (the run log is on the queue's Postgres): runs by status, LLM calls logged."""
    import psycopg

    with psycopg.connect(url) as db:
        rows = db.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()
        out = {f"runs {s}": n for s, n in rows}
        out["LLM calls logged"] = db.execute("SELECT count(*) FROM llm_calls").fetchone()[0]  # type: ignore[index]
    return out


def _memory(chroma_url: str, profiles: list[str]) -> int:
    """Memory records over every profile's collection (and the default one)."""
    from ribao.memory import MemoryStore, make_embedder

    total = 0
    for profile in [None, *profiles]:
        with MemoryStore.open(None, url=chroma_url, embedder=make_embedder("hash"), profile=profile) as store:
            total += store.stats().count
    return total


def _per_run(model: Any, url: str) -> dict[str, float]:
    """Critical path of each (day, profile) run in the reference: the requests that arrived while it ran
    (the reference runs one job at a time)."""
    import datetime as dt
    import json

    import psycopg

    # The simulator stamps requests with time.monotonic(); the run log with UTC wall time.
    offset = time.time() - time.monotonic()
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT date, settings, started_at, finished_at FROM runs WHERE status = 'done'"
            " ORDER BY started_at"
        ).fetchall()
    spans = [
        (
            f"{d} {json.loads(js).get('profile') or 'default'}",
            dt.datetime.fromisoformat(a).timestamp(),
            dt.datetime.fromisoformat(b).timestamp(),
        )
        for d, js, a, b in rows
    ]
    days: dict[str, dict[str, float]] = {}
    for day, a, b in spans:
        stages: dict[str, float] = {}
        for sv in model.served:
            if a <= sv.arrived + offset <= b:
                stages[sv.stage] = max(stages.get(sv.stage, 0.0), sv.seconds)
        days[day] = stages
    return days


def _day_paths(runs: dict[str, dict[str, float]]) -> dict[str, float]:
    """Critical path of each day: the stages only one of its runs paid (the day's shared triage and
    rubric, which every run of the day waits for) plus the slowest run's own stages."""
    by_day: dict[str, list[dict[str, float]]] = collections.defaultdict(list)
    for key, stages in runs.items():
        by_day[key.split()[0]].append(stages)
    out = {}
    for day, stage_sets in by_day.items():
        tools = [{st.split("#")[0] for st in stages} for stages in stage_sets]
        shared: dict[str, float] = {}
        own = []
        for k, stages in enumerate(stage_sets):
            others = set().union(*(t for j, t in enumerate(tools) if j != k))
            mine = {st: v for st, v in stages.items() if st.split("#")[0] in others or len(stage_sets) == 1}
            shared.update({st: v for st, v in stages.items() if st not in mine})
            own.append(sum(mine.values()))
        out[day] = sum(shared.values()) + max(own)
    return out


def phase(
    name: str, opts: argparse.Namespace, pg: Any, tmp: Path, workers: int, kill_after: int | None
) -> dict[str, Any]:
    """Backfill into a fresh database and home, run `workers` workers until every job ended."""
    stub, model = sim_provider.start(opts.ttft, opts.rate, 0.15)
    chroma = start_chroma(tmp / f"{name}-chroma")
    home = tmp / f"{name}-home"
    home.mkdir()
    url = queue_home.database(pg, name)
    profiles = queue_home.profiles(opts.profiles)
    queue_home.write_config(home, stub.base_url, url, profiles, chroma.url, opts.max_concurrency)
    env = queue_home.environment(home)
    try:
        named = [a for p in profiles for a in ("--profile", p)]
        add = queue_home.ribao(
            env, "backfill", "--from", opts.start, "--to", opts.end, "--source", str(opts.listings), *named
        )
        print(f"[{name}] " + add.communicate()[0].strip().replace("\n", "\n[" + name + "] "))
        started, t0 = time.monotonic(), time.time()
        args = ("worker", "--until-empty", "--concurrency", "1") if workers == 1 else ("worker",)
        procs = [queue_home.ribao(env, *args, log=home / f"worker{k}.log") for k in range(workers)]
        spies = _spy(opts, name, procs) if workers > 1 else []
        cpu: dict[int, float] = {}
        killed = None
        while True:
            for p in procs:
                cpu[p.pid] = max(cpu.get(p.pid, 0.0), scale_timeline.cpu_seconds(p.pid))
            if kill_after and killed is None and len(model.served) >= kill_after:
                killed = procs[0]
                killed.send_signal(signal.SIGKILL)
                print(f"[{name}] kill -9 worker pid {killed.pid} after {len(model.served)} requests")
            status = _jobs(url)
            if workers == 1 and procs[0].poll() is not None:
                break
            if workers > 1 and not status.get("todo") and not status.get("doing"):
                break
            time.sleep(0.2)
        wall = time.monotonic() - started
        for p in procs:
            cpu[p.pid] = max(cpu.get(p.pid, 0.0), scale_timeline.cpu_seconds(p.pid))
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        digests = sorted(p.relative_to(home / "digests").as_posix() for p in (home / "digests").rglob("*.md"))
        tools = collections.Counter(s.tool for s in model.served)
        return {
            "wall": wall, "jobs": dict(_jobs(url)), "digests": digests, "tools": tools, "model": model,
            "home": home, "url": url, "counts": _counts(url), "memory": _memory(chroma.url, profiles),
            "requests": len(model.served), "critical": model.critical_path(), "cpu": cpu,
            "timeline": scale_timeline.timeline(url, t0),
        }  # fmt: skip
    finally:
        stub.__exit__(None, None, None)
        chroma.stop()


def _spy(
    opts: argparse.Namespace, name: str, procs: list[subprocess.Popen[str]]
) -> list[subprocess.Popen[str]]:
    """Start `py-spy record` on each worker (--py-spy DIR): a speedscope profile per worker in DIR."""
    if not opts.py_spy:
        return []
    opts.py_spy.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [opts.py_spy_bin, "record", "--nonblocking", "--idle", "-r", "25", "-f", "raw", "-p", str(p.pid),
             "-o", str(opts.py_spy / f"{name}-worker{k}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )
        for k, p in enumerate(procs)
    ]  # fmt: skip


def _where(opts: argparse.Namespace, r: dict[str, Any]) -> None:
    """Print where a phase's wall went: CPU per worker, the provider's busy time, the timeline."""
    cpu = r["cpu"]
    total = sum(cpu.values())
    print(
        f"cpu        workers' CPU seconds {', '.join(f'{v:.1f}' for v in cpu.values())} = {total:.1f} "
        f"(/ 2 cores = {total / 2:.1f} s; wall {r['wall']:.1f} s); provider busy {r['model'].busy():.1f} s, "
        f"replies late {r['model'].late():.1f} s"
    )
    scale_timeline.show(r["timeline"], opts.timeline)


def main() -> int:
    p = argparse.ArgumentParser(prog="scale_bench.py")
    p.add_argument("--listings", type=Path, default=ROOT.parent.parent / "shared" / "data" / "arxiv")
    p.add_argument("--from", dest="start", default="2026-02-17")
    p.add_argument("--to", dest="end", default="2026-02-20")
    p.add_argument("--ttft", type=float, default=0.8)
    p.add_argument("--rate", type=float, default=60.0)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--profiles", type=int, default=5, help="reader profiles p1…pN, one job per day each")
    p.add_argument(
        "--kill-at", type=float, default=0.3, help="fraction of the reference's requests (0: none)"
    )
    p.add_argument("--max-concurrency", type=int, help="the provider's requests in flight, all workers")
    p.add_argument("--compare-kill", action="store_true", help="run the workers without a kill first too")
    p.add_argument(
        "--py-spy", type=Path, help="record each worker of the multi-worker phases with py-spy here"
    )
    p.add_argument("--py-spy-bin", default=shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")
    p.add_argument("--timeline", type=Path, help="write the workers' per-run node spans to this file")
    p.add_argument(
        "--no-reference",
        type=float,
        metavar="SECONDS",
        help="skip the 1-worker reference; report the workers' wall against this critical path",
    )
    p.add_argument("--reference-requests", type=int, default=345, help="with --no-reference: for --kill-at")
    opts = p.parse_args()
    if not opts.listings.is_dir():
        opts.listings = Path("/work/shared/data/arxiv")
    pg = start_postgres()
    tmp = Path(tempfile.mkdtemp(prefix="ribao-scale-"))
    try:
        if opts.no_reference:  # the workers alone, against a critical path measured before
            calm = None
            many = phase("workers", opts, pg, tmp, opts.workers, int(opts.reference_requests * opts.kill_at))
            _where(opts, many)
            print(f"ratio      wall / {opts.no_reference:.1f} s = {many['wall'] / opts.no_reference:.2f}")
            return 0
        ref = phase("single", opts, pg, tmp, 1, None)
        calm = phase("calm", opts, pg, tmp, opts.workers, None) if opts.compare_kill else None
        many = phase("workers", opts, pg, tmp, opts.workers, int(ref["requests"] * opts.kill_at))
        runs = _per_run(ref["model"], ref["url"])
        days = {run: sum(stages.values()) for run, stages in runs.items()}
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    slowest = max(days.values()) if days else float("nan")
    load = os.getloadavg()[0]
    print(f"\nprovider   simulated {opts.ttft} s + {opts.rate} tok/s; {os.cpu_count()} CPUs, load {load:.1f}")
    killed = f"{opts.workers} workers" + (", 1 killed" if opts.kill_at else "")
    shown = [("1 worker", ref), *([(f"{opts.workers}, no kill", calm)] if calm else []), (killed, many)]
    for label, r in shown:
        print(
            f"{label:<10} wall {r['wall']:.1f} s, digests {len(r['digests'])} (same as the reference: "
            f"{r['digests'] == ref['digests']}), "
            f"jobs {r['jobs']}, "
            f"requests {r['requests']}, run log {r['counts']}, memory {r['memory']} records"
        )
    per_day: dict[str, list[float]] = collections.defaultdict(list)
    for key, secs in days.items():
        per_day[key.split()[0]].append(secs)
    print(
        "critical   per run (reference), by day: "
        + "; ".join(f"{d} " + "/".join(f"{x:.1f}" for x in xs) + " s" for d, xs in per_day.items())
    )
    slowest_day = max(sum(xs) for xs in per_day.values())
    total = sum(days.values())
    print(
        f"ratio      {opts.workers} workers' wall / critical path of the slowest day (its slowest run, "
        f"{slowest:.1f} s) = {many['wall'] / slowest:.2f} (target <= 1.5); / that day's runs one after "
        f"another ({slowest_day:.1f} s) = {many['wall'] / slowest_day:.2f}; / (sum of critical paths / "
        f"{opts.workers}) = {many['wall'] / (total / opts.workers):.2f}; 1 worker's wall / sum = "
        f"{ref['wall'] / total:.2f}"
    )
    day_paths = _day_paths(runs)
    worst = max(day_paths.values())
    print(
        "critical   per day, its shared stages plus its slowest run's own: "
        + "; ".join(f"{d} {x:.1f} s" for d, x in day_paths.items())
        + f"; wall / the slowest ({worst:.1f} s) = {many['wall'] / worst:.2f}"
    )
    if calm:
        print(
            f"no kill    wall {calm['wall']:.1f} s = {calm['wall'] / slowest:.2f}x the slowest critical "
            f"path, {calm['wall'] / worst:.2f}x the slowest day's"
        )
    for r in (calm, many):
        if r is not None:
            _where(opts, r)
    tokens: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for sv in ref["model"].served:
        tokens[sv.tool][0] += 1
        tokens[sv.tool][1] += sv.tokens_in
        tokens[sv.tool][2] += sv.tokens_out
    print("tokens     reference, per tool: requests / in / out")
    for tool, (n, tin, tout) in sorted(tokens.items()):
        print(f"           {tool:<18} {n:>4} {tin:>9,} {tout:>8,}")
    extra = many["tools"] - ref["tools"]
    print(f"repaid     requests beyond the reference after the kill, by tool: {dict(extra) or 'none'}")
    missing = ref["tools"] - many["tools"]
    if missing:
        print(f"           (fewer than the reference: {dict(missing)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
