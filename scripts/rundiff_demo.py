"""Measure `ribao runs diff` on the bundled day: a run and a replay of its writer with an edited prompt.

Runs the bundled day (ribao/data/2026-02-18.cs.jsonl) against the simulated provider
(scripts/sim_provider.py with instant replies, priced at ¥2 / ¥8 per million tokens in / out) in a
fresh home, replays the writer with `writer/notable.md.j2` shortened to one line, then times
`ribao runs diff` as text, --json and --html (each a fresh process, so Python's start and imports
are included) and prints the text diff, the figures and the page's size. The simulated provider
answers every prompt alike: the replies do not change; the prompts sent and the tokens do.

    .venv/bin/python scripts/rundiff_demo.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import sim_home  # noqa: E402
import sim_provider  # noqa: E402

ENV = {"COLUMNS": "160"}  # on top of the home and the key
ribao = functools.partial(sim_home.ribao, env=ENV)
EDITED = "用一句话介绍这篇论文：{{ paper.title }}\n"


def main(argv: list[str]) -> int:
    """Record a run and its replay, diff them, print the figures."""
    p = argparse.ArgumentParser(prog="rundiff_demo.py")
    p.add_argument("--keep", type=Path, help="keep the home (and the page) in this folder")
    opts = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ribao-rundiff-"))
    home = tmp / "home"
    home.mkdir()
    (tmp / "edited" / "writer").mkdir(parents=True)
    (tmp / "edited" / "writer" / "notable.md.j2").write_text(EDITED, encoding="utf-8")
    stub, _ = sim_provider.start(ttft=0.0, rate=0.0, jitter=0.0)
    try:
        sim_home.write_config(home, stub.base_url)
        source = str(ROOT / "ribao" / "data" / "2026-02-18.cs.jsonl")
        ribao(home, "run", "--source", source, "--out", str(tmp / "out"), "--quiet")
        ribao(home, "replay", "latest", "--agent", "writer", "--prompts-dir", str(tmp / "edited"))
    finally:
        stub.__exit__(None, None, None)
    _, listed = ribao(home, "runs", "list", "--json")
    replay, run = (r["run_id"] for r in json.loads(listed)[:2])
    text_s, text = ribao(home, "runs", "diff", run, replay)
    json_s, as_json = ribao(home, "runs", "diff", run, replay, "--json")
    page = tmp / "diff.html"
    html_s, _ = ribao(home, "runs", "diff", run, replay, "--html", str(page))
    print(text)
    print(f"runs diff    text {text_s:.2f} s, --json {json_s:.2f} s ({len(as_json):,} bytes), "
          f"--html {html_s:.2f} s ({page.stat().st_size:,} bytes)  (wall, fresh process each)")  # fmt: skip
    if opts.keep:
        shutil.copytree(tmp, opts.keep, dirs_exist_ok=True)
        print(f"kept         {opts.keep}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
