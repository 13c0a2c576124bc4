"""Benchmark shared work across queue jobs: tokens of backfilling days for 1 profile against N profiles.

For each profile count, starts the simulated provider (scripts/sim_provider.py) and a fresh database of
a throwaway PostgreSQL cluster, queues the listing days in --from..--to for profiles p1…pN with one
`ribao backfill` (one batch: the jobs of a day share paper-level work), and runs --workers
`ribao worker --until-empty` at once. Prints requests and tokens per tool, and the tokens of N profiles
as a multiple of one profile's. Asserts nothing.

    .venv/bin/python scripts/shared_bench.py [--counts 1,5] [--listings ../shared/data/arxiv]
        [--from 2026-02-17] [--to 2026-02-20] [--workers 3] [--ttft 0.8] [--rate 60]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import queue_home  # noqa: E402
import sim_provider  # noqa: E402

from tests.support.servers import start_postgres  # noqa: E402

SHARED = ("TriageScores", "ShortlistRanking", "MustReadOutput", "NotableOutput")


def phase(n: int, opts: argparse.Namespace, pg: Any, tmp: Path) -> dict[str, Any]:
    """Backfill the days for `n` profiles into a fresh database and home; run the workers to the end."""
    stub, model = sim_provider.start(opts.ttft, opts.rate, 0.15)
    home = tmp / f"home-{n}"
    home.mkdir()
    url = queue_home.database(pg, f"shared{n}")
    profiles = queue_home.profiles(n)
    queue_home.write_config(home, stub.base_url, url, profiles)
    env = queue_home.environment(home)
    try:
        named = [a for p in profiles for a in ("--profile", p)]
        backfill = (
            "backfill",
            "--from",
            opts.start,
            "--to",
            opts.end,
            "--source",
            str(opts.listings),
            *named,
        )
        for step in (("db", "upgrade"), backfill):
            out, err = queue_home.ribao(env, *step).communicate()
            print(f"[{n}] " + (out.strip() or err.strip()).replace("\n", f"\n[{n}] "))
        started = time.monotonic()
        procs = [queue_home.ribao(env, "worker", "--until-empty") for _ in range(opts.workers)]
        for p in procs:
            p.communicate()
        wall = time.monotonic() - started
        digests = len(list((home / "digests").rglob("*.md")))
        return {
            "wall": wall,
            "digests": digests,
            "served": list(model.served),
            "codes": [p.returncode for p in procs],
        }
    finally:
        stub.__exit__(None, None, None)


def main() -> int:
    p = argparse.ArgumentParser(prog="shared_bench.py")
    p.add_argument("--counts", default="1,5")
    p.add_argument("--listings", type=Path, default=ROOT.parent.parent / "shared" / "data" / "arxiv")
    p.add_argument("--from", dest="start", default="2026-02-17")
    p.add_argument("--to", dest="end", default="2026-02-20")
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--ttft", type=float, default=0.8)
    p.add_argument("--rate", type=float, default=60.0)
    opts = p.parse_args()
    if not opts.listings.is_dir():
        opts.listings = Path("/work/shared/data/arxiv")
    pg = start_postgres()
    tmp = Path(tempfile.mkdtemp(prefix="ribao-shared-"))
    rows = []
    try:
        for n in [int(c) for c in opts.counts.split(",")]:
            r = phase(n, opts, pg, tmp)
            by_tool: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
            for s in r["served"]:
                by_tool[s.tool][0] += 1
                by_tool[s.tool][1] += s.tokens_in + s.tokens_out
            tokens = sum(t for _, t in by_tool.values())
            shared = sum(by_tool[t][1] for t in SHARED if t in by_tool)
            rows.append((n, r, tokens, shared))
            print(f"[{n}] tokens by tool (requests / tokens): "
                  + ", ".join(f"{t} {c}/{k:,}" for t, (c, k) in sorted(by_tool.items())))  # fmt: skip
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    one = rows[0][2] or 1
    print(
        f"\nprovider simulated {opts.ttft} s + {opts.rate} tok/s; {opts.workers} workers; "
        f"days {opts.start}..{opts.end}"
    )
    print("profiles  digests  exits      requests  paper-level tokens  all tokens   x one   wall")
    for n, r, tokens, shared in rows:
        print(
            f"{n:>8}  {r['digests']:>7}  {str(r['codes']):<9}  {len(r['served']):>8}  {shared:>18,}  "
            f"{tokens:>10,}  "
            f"{tokens / one:5.2f}  {r['wall']:5.0f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
