"""Benchmark `ribao eval run`: the four bundled February days replayed with two screener prompt sets.

    .venv/bin/python scripts/eval_bench.py [--days 2026-02-17..2026-02-20] [--ttft 0.8] [--rate 60]
    .venv/bin/python scripts/eval_bench.py --llm local --days 2026-02-18 --order default,worse,default-again

Records one base run per day (`ribao run`, real processes) against the simulated provider
(scripts/sim_provider.py, 0.8 s to first token + 60 tok/s, ±15 % jitter) answered by the scripted
judge that follows what the screener's prompt asks for (tests/support/prompt_judge.py); fetches the
Hugging Face references from a loopback server replaying the captured days; then runs three
experiments replaying the screener and everything after it: the packaged prompts twice and a
deliberately worse screener system prompt once. Prints each experiment's wall time against the
critical path of its replays (the replays run at once, so: the longest replay's own critical
path), and `ribao eval compare` of default vs each later experiment. `--llm local` answers with
SmolLM2 (`ribao demo`'s views) instead of the simulator and the scripted judge. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
DATA = ROOT.parent.parent / "shared" / "data" / "arxiv"


def _days(text: str) -> list[str]:
    import datetime as dt

    first, _, last = text.partition("..")
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last or first)
    return [(start + dt.timedelta(n)).isoformat() for n in range((end - start).days + 1)]


def _listing(day: str, data: Path) -> Path:
    return data / f"{day}.cs.jsonl"


def _titles(days: list[str], data: Path) -> dict[str, str]:
    """Title → listing day, for telling which day's replay a request belongs to."""
    out: dict[str, str] = {}
    for day in days:
        for line in _listing(day, data).read_text(encoding="utf-8").splitlines():
            title = json.loads(line).get("title", "")
            if len(title) >= 20:
                out[title] = day
    return out


def _thread_of(titles: dict[str, str]) -> Any:
    def thread(body: dict[str, Any]) -> str:
        text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        for title, day in titles.items():
            if title in text:
                return day
        return "?"

    return thread


def ribao(home: Path, *args: str, env: dict[str, str], check: bool = True) -> tuple[float, str]:
    """Run `ribao ARGS` in `home`; return wall seconds and stdout."""
    full = {**os.environ, "RIBAO_HOME": str(home), "COLUMNS": "160", **env}
    # As installed, ribao runs from cached bytecode (scripts/benchmark.py does the same).
    full.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "ribao", *args],
        env=full,
        cwd=home.parent,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    if check and done.returncode not in (0, 6):
        raise SystemExit(f"ribao {' '.join(args)}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return wall, done.stdout


def main(argv: list[str]) -> int:
    """Run the benchmark and print its figures."""
    import sim_provider

    from tests.support import prompt_judge
    from tests.support.hf_daily import HFDaily

    p = argparse.ArgumentParser(prog="eval_bench.py")
    p.add_argument("--days", default="2026-02-17..2026-02-20")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--ttft", type=float, default=0.8)
    p.add_argument("--rate", type=float, default=60.0)
    p.add_argument("--jitter", type=float, default=0.15)
    p.add_argument("--llm", choices=["sim", "local"], default="sim")
    p.add_argument("--must-read", type=int, default=3, help="[local] must-reads per day")
    p.add_argument("--notable", type=int, default=10, help="[local] notables per day")
    p.add_argument("--order", default="default,default-again,worse", help="experiments in the order they run")
    opts = p.parse_args(argv)
    days = _days(opts.days)
    tmp = Path(tempfile.mkdtemp(prefix="ribao-evalbench-"))
    home = tmp / "home"
    home.mkdir()
    worse = tmp / "worse-prompts"
    (worse / "screener").mkdir(parents=True)
    (worse / "screener" / "system.md.j2").write_text(prompt_judge.WORSE_SYSTEM, encoding="utf-8")
    hf = HFDaily()
    env = {"RIBAO_EVAL__HF_ENDPOINT": hf.endpoint, "SIM_KEY": "sk-sim"}
    model = None
    if opts.llm == "sim":
        stub, model = sim_provider.start(opts.ttft, opts.rate, opts.jitter)
        model.answer = prompt_judge.body_args
        model.thread_of = _thread_of(_titles(days, opts.data))
        provider = (
            f'llm = "sim"\n[providers.sim]\nbase_url = "{stub.base_url}"\napi_key_env = "SIM_KEY"\n'
            'model = "sim-chat"\n'
        )
    else:
        # The demo's views (`ribao demo`): SmolLM2 on 2 cores reads short abstracts, one critic round.
        provider = (
            'llm = "local"\ntriage_abstract_words = 12\nscreener_abstract_words = 30\nmax_critic_rounds = 1\n'
            f"must_read = {opts.must_read}\nnotable = {opts.notable}\n"
        )
    config = (
        provider + '[memory]\nembedder = "hash"\n[fulltext]\nenabled = false\n[delivery]\nenabled = false\n'
    )
    (home / "config.toml").write_text(config, encoding="utf-8")
    print(f"home {home}; provider {opts.llm}; load avg {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    for day in days:
        wall, _ = ribao(home, "run", "--source", str(_listing(day, opts.data)), "--quiet", "--out",
                        str(tmp / "out"), env=env)  # fmt: skip
        print(f"base run {day}: {wall:.1f} s", flush=True)
    ribao(home, "eval", "refs", "fetch", "--from", days[0], "--to", days[-1], env=env)
    span = f"{days[0]}..{days[-1]}"
    plans = {"default": [], "default-again": [], "worse": ["--prompts-dir", str(worse)]}
    for name in opts.order.split(","):
        extra = plans[name]
        if model is not None:
            model.served.clear()
        wall, out = ribao(home, "eval", "run", "--agent", "screener", "--days", span, "--name", name,
                          "--json", *extra, env=env)  # fmt: skip
        replayed = json.loads(out)["seconds"]
        line = f"experiment {name}: wall {wall:.1f} s (replays {replayed:.1f} s)"
        if model is not None:
            paths = {d: s for d, s in model.critical_paths().items() if d != "?"}
            cp = max(paths.values())
            line += (
                f", critical path {cp:.1f} s (longest replay; per day "
                + ", ".join(f"{d[5:]} {s:.1f}" for d, s in sorted(paths.items()))
                + f"), wall/critical {wall / cp:.2f}, replays/critical {replayed / cp:.2f}"
                + f", {len(model.served)} requests"
            )
        print(line, flush=True)
        if name != "default":  # each comparison as soon as it can be made
            started = time.monotonic()
            _, out = ribao(home, "eval", "compare", "default", name, "--fail-on-regression", env=env)
            print(
                f"\n$ ribao eval compare default {name}   ({time.monotonic() - started:.1f} s)\n{out}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
