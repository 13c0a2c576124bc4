"""Where the workers' wall time goes: a timeline per job and the CPU each worker process used.

Used by scripts/scale_bench.py after a phase: from the queue's tables (procrastinate's events) and the
run log (runs, node_events, llm_calls) on one Postgres database.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return the CPU seconds (user + system, its threads included) process `pid` used so far, 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _ts(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return dt.datetime.fromisoformat(str(value)).timestamp()


def timeline(url: str, t0: float) -> list[dict[str, Any]]:
    """Return one row per run: its job's queue times and its nodes' spans, in seconds after `t0` (epoch)."""
    import psycopg

    with psycopg.connect(url) as db:
        jobs = db.execute(
            "SELECT j.id, j.args, e.type::text, e.at FROM procrastinate_jobs j"
            " JOIN procrastinate_events e ON e.job_id = j.id WHERE j.task_name = 'ribao.write_digest'"
            " ORDER BY e.at"
        ).fetchall()
        runs = db.execute(
            "SELECT run_id, date, settings, started_at, finished_at, pid, status FROM runs"
        ).fetchall()
        nodes = db.execute(
            "SELECT run_id, node, started_at, finished_at FROM node_events ORDER BY id"
        ).fetchall()
        calls = db.execute("SELECT run_id, agent, created_at, latency_s FROM llm_calls").fetchall()
    events: dict[str, dict[str, list[float]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for _, args, kind, at in jobs:
        events[args["run_id"]][kind].append(_ts(at) - t0)
    per_run_nodes: dict[str, list[tuple[str, float, float]]] = collections.defaultdict(list)
    for run_id, node, a, b in nodes:
        end = _ts(b) - t0
        per_run_nodes[run_id].append((node, (_ts(a) - t0) if a else end, end))
    waits: dict[str, float] = collections.defaultdict(float)
    for run_id, _, _, latency in calls:
        waits[run_id] += latency or 0.0
    rows = []
    for run_id, date, settings, a, b, pid, status in runs:
        ev = events.get(run_id, {})
        rows.append({
            "run": f"{date} {json.loads(settings).get('profile') or 'default'}", "pid": pid, "status": status,
            "deferred": min(ev.get("deferred", [float("nan")])), "started": ev.get("started", []),
            "run_start": _ts(a) - t0, "run_end": (_ts(b) - t0) if b else float("nan"),
            "done": max(ev.get("succeeded", [float("nan")])), "nodes": per_run_nodes.get(run_id, []),
            "llm_s": waits.get(run_id, 0.0),
        })  # fmt: skip
    return sorted(rows, key=lambda r: r["run"])


def show(rows: list[dict[str, Any]], out: Path | None = None) -> None:
    """Print the timeline (one line per run, the nodes' spans after it when `out` names a file)."""
    print("timeline   run                pid     picked up   run start  run end   done   LLM wait (sum)")
    for r in rows:
        picked = ",".join(f"{s:.1f}" for s in r["started"])
        print(
            f"           {r['run']:<18} {r['pid'] or '-':<7} {picked:<11} {r['run_start']:>8.1f} "
            f"{r['run_end']:>8.1f} {r['done']:>7.1f} {r['llm_s']:>8.1f}"
        )
    if out is not None:
        with out.open("w", encoding="utf-8") as f:
            for r in rows:
                span = f"{r['run_start']:.2f}-{r['run_end']:.2f}"
                f.write(f"{r['run']} pid {r['pid']} picked {r['started']} run {span}\n")
                for node, a, b in r["nodes"]:
                    f.write(f"    {node:<28} {a:8.2f} {b:8.2f} {b - a:7.2f}\n")
        print(f"           nodes per run: {out}")
