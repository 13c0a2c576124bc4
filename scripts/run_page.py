"""Measure `ribao runs why` and `ribao runs view` on real-size runs against the simulated provider.

Runs the bundled day (180 papers) and a 471-paper day (--listing, default
../shared/data/arxiv/2026-02-17.cs.jsonl when present, else the bundled day padded to 471 papers by
tests/support/big_listing.py) against the simulated
provider (scripts/sim_provider.py, instant replies) in a fresh home, then prints:

- `runs why` of the 471-paper run: the in-process answer (open the run log, read, explain; median of
  20) and a fresh `ribao runs why` process (Python's start and imports included; median of 3);
- the run page of the 471-paper run: the render alone (median of 5), reading the graph's shape
  (compiling the graph, once), a fresh `ribao runs view` process, the page's size and how much of it
  is the calls' compressed messages;
- two `runs why` answers from the bundled day (a pick and a paper below the cut), for the README.

    .venv/bin/python scripts/run_page.py [--listing FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))
import sim_home  # noqa: E402
import sim_provider  # noqa: E402

from ribao.app.runview import graph_shape, run_record  # noqa: E402
from ribao.runs import RunLog  # noqa: E402
from ribao.runs.page import render_run_page  # noqa: E402
from ribao.runs.why import path_of  # noqa: E402
from tests.support.big_listing import write_listing  # noqa: E402

ENV = {"PYTHONPATH": str(ROOT)}  # on top of the home and the key
ribao = functools.partial(sim_home.ribao, env=ENV)
REAL_471 = Path("../shared/data/arxiv/2026-02-17.cs.jsonl")  # from the project folder, as DESIGN.md says


def timed(fn: object, n: int) -> float:
    """Median wall seconds of `n` calls of `fn`."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def last_run(home: Path) -> tuple[str, list[dict[str, object]]]:
    with RunLog.open(home) as log:
        run = log.list_runs(limit=1)[0]
        return run.run_id, run.picks


def main(argv: list[str]) -> int:
    """Record two runs, time `runs why` and `runs view`, print the figures and two answers."""
    p = argparse.ArgumentParser(prog="run_page.py")
    p.add_argument("--keep", type=Path, help="keep the home (and the page) in this folder")
    p.add_argument("--listing", type=Path, default=REAL_471, help="the big day's listing (JSONL)")
    opts = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ribao-runpage-"))
    home = tmp / "home"
    home.mkdir()
    big = opts.listing.resolve() if opts.listing.is_file() else write_listing(tmp / "padded-471.jsonl", 471)
    stub, _ = sim_provider.start(ttft=0.0, rate=0.0, jitter=0.0)
    try:
        sim_home.write_config(home, stub.base_url)
        ribao(home, "run", "--source", str(ROOT / "ribao" / "data" / "2026-02-18.cs.jsonl"), "--quiet")
        day_run, day_picks = last_run(home)
        ribao(home, "run", "--source", str(big), "--quiet", "--out", str(tmp / "out471"))
        big_run, picks = last_run(home)
    finally:
        stub.__exit__(None, None, None)
    pick = str(picks[0]["arxiv_id"])
    with RunLog.open(home) as log:
        in_process = timed(lambda: path_of(RunLog.open(home), big_run, pick), 20)
        record = run_record(log, big_run)
    cli_why = statistics.median(ribao(home, "runs", "why", big_run, pick)[0] for _ in range(3))
    started = time.perf_counter()
    shape = graph_shape()
    shape_s = time.perf_counter() - started
    render = timed(lambda: render_run_page(record, shape), 5)
    page = tmp / "run-471.html"
    cli_view, _ = ribao(home, "runs", "view", big_run, "--out", str(page))
    html = page.read_text(encoding="utf-8")
    packed = re.search(r'<script type="application/json" id="packed">(.*?)</script>', html, re.S)
    packed_bytes = len(packed.group(1).encode()) if packed else 0
    raw = sum(
        len(json.dumps(c.messages, ensure_ascii=False).encode()) + len(c.raw.encode()) for c in record.calls
    )
    print(f"471-paper run {big_run}: {len(record.calls)} calls, {len(record.nodes)} node tasks ({big.name})")
    size = len(html.encode())
    print(
        f"runs why      in-process {in_process * 1000:.1f} ms (median of 20); "
        f"fresh process {cli_why:.2f} s (median of 3)"
    )
    print(
        f"runs view     render {render:.3f} s (median of 5); graph shape {shape_s:.2f} s; "
        f"fresh process {cli_view:.2f} s"
    )
    print(
        f"page          {size / 1e6:.2f} MB; of it the calls' messages {packed_bytes / 1e6:.2f} MB "
        f"gzip+base64 (raw {raw / 1e6:.2f} MB); without them {(size - packed_bytes) / 1e6:.2f} MB"
    )
    day_pick = str(day_picks[0]["arxiv_id"])
    for pid in (day_pick, "2602.15763"):
        print(f"\n$ ribao runs why {day_run[:10]} {pid}")
        print(ribao(home, "runs", "why", day_run[:10], pid)[1].rstrip())
    if opts.keep:
        shutil.copytree(tmp, opts.keep, dirs_exist_ok=True)
        print(f"\nkept in {opts.keep}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
