"""Measure how long one run with a reader profile holds the event loop (a worker's jobs share one loop).

Writes a day's digest with the scripted fake models (instant), no memory, and a reader profile whose
relevance embeds the day with the real MiniLM embedder, in an asyncio debug loop
(`tests/support/loop_watch.py`); prints the run's wall time and each loop step that held the loop
over 0.25 s (less its wait for a CPU). Every other job of a worker waits for as long as a step holds it.

    .venv/bin/python scripts/loop_hold.py [--listing ../shared/data/arxiv/2026-02-17.cs.jsonl]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ribao.app.services import Services  # noqa: E402
from ribao.app.write import write_day  # noqa: E402
from ribao.memory.minilm import MiniLMEmbedder  # noqa: E402
from ribao.profiles.run import RunProfile  # noqa: E402
from ribao.runs.trace import Tracer  # noqa: E402
from ribao.settings import MemorySettings  # noqa: E402
from tests.support.graph import models, sample_settings  # noqa: E402
from tests.support.loop_watch import run_watched  # noqa: E402
from tests.support.profiles import robotics_profile  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(prog="loop_hold.py")
    p.add_argument("--listing", type=Path, default=Path("/work/shared/data/arxiv/2026-02-17.cs.jsonl"))
    opts = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="ribao-loop-") as tmp:
        settings = sample_settings(Path(tmp), memory=MemorySettings(enabled=False), source=str(opts.listing))
        profile = RunProfile(robotics_profile(), MiniLMEmbedder())
        services = Services(settings, dict(models()), profile=profile)
        started = time.monotonic()
        result, slow = run_watched(write_day(services, None, tracer=Tracer(quiet=True)), threshold=0.25)
        wall = time.monotonic() - started
    found = (re.findall(r"held the loop (\d+\.\d+) s", line) for line in slow)
    held = sorted((float(m) for ms in found for m in ms), reverse=True)
    print(f"{opts.listing.name}: {result.scanned} papers, wall {wall:.1f} s, load {os.getloadavg()[0]:.1f}")
    longest = held[0] if held else 0.0
    print(f"loop steps over 0.25 s: {len(held)}, longest {longest:.2f} s, total {sum(held):.2f} s")
    for line in slow[:5]:
        print("  " + line[:300])
    return 0


if __name__ == "__main__":
    sys.exit(main())
