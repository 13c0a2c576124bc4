"""Benchmark a full run: wall time, time per node, calls/tokens/cost per agent, peak memory.

Runs `ribao demo` (or `ribao run ARGS…`) in a fresh temporary home, then reads the run log.
Prints figures; asserts nothing (speed belongs here, not in timed tests).

    .venv/bin/python scripts/benchmark.py [demo] [--n-threads N] [--n-threads-batch N] \
        [--flash-attn true|false] [--triage-words N] [--critic-rounds N]   # the offline demo, local model
    .venv/bin/python scripts/benchmark.py run --llm deepseek --date 2026-02-18 --source arxiv
    .venv/bin/python scripts/benchmark.py sim ../shared/data/arxiv/2026-02-17.cs.jsonl \
        [--ttft 0.8] [--rate 60] [--jitter 0.15] [--concurrency N] [--embedder hash|minilm] \
        [--tokens tokenizer|chars] [--profile FILE] [--importtime FILE]
    .venv/bin/python scripts/benchmark.py profiles ../shared/data/arxiv/2026-02-17.cs.jsonl \
        [--counts 1,5,20] [--ttft 0.8] [--rate 60]

`demo` runs `ribao demo` (SmolLM2-135M on the llama.cpp server) and adds the load average (the
machine may be shared: compare CPU seconds, not wall) and llama.cpp's own timings from the server
log: prompt tokens evaluated and reused from the previous request's KV cache (prefix-match hits),
prompt-processing and generation seconds. Its options set the matching config keys for this run.

`sim` starts a simulated OpenAI-compatible provider (scripts/sim_provider.py: 0.8 s to first
token, 60 tokens/s, ±15 % jitter by default) and runs that listing against it, then prints wall,
critical path (the wall time if every independent call ran at once), their ratio, and ribao's own
overhead (wall minus critical path). `--rate 0` makes the model instant. `--profile FILE` runs
ribao under cProfile and writes its stats to FILE (read them with `python -m pstats FILE`);
`--importtime FILE` writes `python -X importtime`'s report (ribao's stderr) to FILE and prints the
seconds its top-level imports took.

`profiles` runs `ribao run --all-profiles` on that listing against the simulated provider once per
count of reader profiles (each with its own interests, from `TOPICS`), and prints requests, tokens
and wall per count, and the tokens as a multiple of one profile's (README "Several profiles").
"""

from __future__ import annotations

import collections
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import IO


def sim(argv: list[str]) -> int:
    """Run one listing against the simulated provider and print wall, critical path and ratio."""
    import argparse

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sim_provider

    from ribao.llm.config import ModelConfig

    p = argparse.ArgumentParser(prog="benchmark.py sim")
    p.add_argument("source")
    p.add_argument("--ttft", type=float, default=0.8)
    p.add_argument("--rate", type=float, default=60.0)
    p.add_argument("--jitter", type=float, default=0.15)
    default = ModelConfig.model_fields["max_concurrency"].default
    p.add_argument("--concurrency", type=int, help=f"max_concurrency [default: the product's, {default}]")
    p.add_argument("--embedder", default="hash")
    p.add_argument(
        "--tokens", choices=["tokenizer", "chars"], default="tokenizer",
        help="count tokens with DeepSeek's tokenizer, or by the first version's character rule",
    )  # fmt: skip
    p.add_argument("--profile", type=Path, help="write ribao's cProfile stats to this file")
    p.add_argument("--importtime", type=Path, help="write `python -X importtime`'s report to this file")
    opts = p.parse_args(argv)
    python = ["-m", "cProfile", "-o", str(opts.profile.resolve())] if opts.profile else []
    python = ["-X", "importtime", *python] if opts.importtime else python
    load = os.getloadavg()[0]
    stub, model = sim_provider.start(opts.ttft, opts.rate, opts.jitter, opts.tokens)
    try:
        # Full text off: its arXiv downloads are not LLM calls (and this machine has no arXiv).
        config = (
            f'llm = "sim"\n[providers.sim]\nbase_url = "{stub.base_url}"\napi_key_env = "SIM_KEY"\n'
            f'model = "sim-chat"\n'
            + (f"max_concurrency = {opts.concurrency}\n" if opts.concurrency else "")
            + f'[memory]\nembedder = "{opts.embedder}"\n[fulltext]\nenabled = false\n'
        )
        args = ["run", "--source", _absolute(opts.source)]
        stderr = opts.importtime.open("w", encoding="utf-8") if opts.importtime else None
        try:
            code, wall, home, started = _run(args, config, {"SIM_KEY": "sk-sim"}, python, stderr)
        finally:
            if stderr:
                stderr.close()
    finally:
        stub.__exit__(None, None, None)
    cp, busy = model.critical_path(), model.busy()
    print(f"load avg     {load:.2f} at start, {os.getloadavg()[0]:.2f} at end (1 min; {os.cpu_count()} CPUs)")
    if opts.importtime:
        imported = import_seconds(opts.importtime.read_text(encoding="utf-8"))
        print(f"imports      {imported:.2f} s (-X importtime's top-level imports, gc pauses included)")
    counted = sim_provider.token_counter()[0] if opts.tokens == "tokenizer" else "characters (v1 rule)"
    served = model.served
    print(
        f"\nprovider     simulated: {opts.ttft} s to first token, {opts.rate} tok/s, "
        f"±{opts.jitter:.0%} jitter, max_concurrency {opts.concurrency or f'default ({default})'}, "
        f"embedder {opts.embedder}; "
        f"tokens by {counted}"
    )
    print(
        f"requests     {len(served)}, tokens in/out/cached {sum(s.tokens_in for s in served):,} / "
        f"{sum(s.tokens_out for s in served):,} / {sum(s.cached for s in served):,}"
    )
    print(f"simulator    replies late by {model.late():.1f} s in all (its own CPU; should be near 0)")
    triage = [s for s in served if s.tool == "TriageScores"]
    scanned = _scanned(home)
    if triage and scanned:
        tin = sum(s.tokens_in for s in triage)
        print(f"triage       {len(triage)} requests, {tin:,} tokens in, {tin / scanned:.0f} per candidate")
    ratio = wall / cp if cp else float("nan")
    print(f"critical     {cp:.1f} s   ratio wall/critical {ratio:.2f}   ribao overhead {wall - cp:.1f} s")
    print(
        f"busy         {busy:.1f} s with a request at the provider; {busy - cp:.1f} s of it parallel calls "
        f"that did not overlap (limits, or the client sending late)"
    )
    if served:
        first = min(s.arrived for s in served) - started
        last = started + wall - max(s.at for s in served)
        print(
            f"idle         {wall - busy:.1f} s with no request in flight: {first:.1f} s before the first "
            f"(start-up: imports, memory, listing), {wall - busy - first - last:.1f} s between calls "
            f"(ribao's CPU, checkpoints), {last:.1f} s after the last reply (files, memory, exit)"
        )
    return code


#: One reader's interests per profile of the `profiles` benchmark (English: no keyword derivation call).
TOPICS = [
    "large language model agents, tool use, planning",
    "reinforcement learning from human feedback",
    "diffusion models for image generation",
    "graph neural networks, molecules",
    "speech recognition and spoken language",
    "machine translation, multilingual models",
    "robotics, embodied agents, manipulation",
    "federated learning, privacy",
    "interpretability, mechanistic circuits",
    "retrieval augmented generation",
    "code generation, program synthesis",
    "medical imaging, clinical NLP",
    "time series forecasting",
    "optimization theory, convergence of SGD",
    "recommender systems",
    "AI safety, alignment, jailbreaks",
    "efficient inference, quantization, sparsity",
    "mathematical reasoning, theorem proving",
    "vision-language models, multimodal",
    "causal inference, fairness",
]


def profiles(argv: list[str]) -> int:
    """Run one listing for 1, 5 and 20 profiles against the simulated provider; print tokens and wall."""
    import argparse

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sim_provider

    p = argparse.ArgumentParser(prog="benchmark.py profiles")
    p.add_argument("source")
    p.add_argument("--counts", default="1,5,20")
    p.add_argument("--ttft", type=float, default=0.8)
    p.add_argument("--rate", type=float, default=60.0)
    opts = p.parse_args(argv)
    rows = []
    for n in [int(c) for c in opts.counts.split(",")]:
        stub, model = sim_provider.start(opts.ttft, opts.rate, 0.15, "tokenizer")
        try:
            tables = "".join(
                f'[profiles.p{i + 1:02d}]\ninterests = "{TOPICS[i % len(TOPICS)]}"\n' for i in range(n)
            )
            config = (
                f'llm = "sim"\n[providers.sim]\nbase_url = "{stub.base_url}"\napi_key_env = "SIM_KEY"\n'
                f'model = "sim-chat"\n[memory]\nembedder = "hash"\n[fulltext]\nenabled = false\n{tables}'
            )
            args = ["run", "--source", _absolute(opts.source), "--all-profiles", "--no-push"]
            code, wall, _, _ = _run(args, config, {"SIM_KEY": "sk-sim"})
        finally:
            stub.__exit__(None, None, None)
        served = model.served
        tokens = sum(s.tokens_in + s.tokens_out for s in served)
        triage = sum(1 for s in served if s.tool == "TriageScores")
        writers = sum(1 for s in served if s.tool in ("MustReadOutput", "NotableOutput"))
        rows.append((n, code, len(served), triage, writers, tokens, wall))
        by_tool = collections.Counter[str]()
        for s in served:
            by_tool[s.tool] += s.tokens_in + s.tokens_out
        print(f"{n} profiles, tokens by call: " + ", ".join(f"{t} {v:,}" for t, v in by_tool.most_common()))
    one = rows[0][5] or 1
    print("\nprofiles  exit  requests  triage  writer  tokens       x one   wall")
    for n, code, requests, triage, writers, tokens, wall in rows:
        print(
            f"{n:>8}  {code:>4}  {requests:>8}  {triage:>6}  {writers:>6}  {tokens:>11,}  "
            f"{tokens / one:5.2f}  {wall:5.0f} s"
        )
    return max(r[1] for r in rows)


def import_seconds(report: str) -> float:
    """Seconds spent importing, from a `-X importtime` report: the sum of its top-level imports."""
    import re

    # Lines read "import time: self | cumulative | name"; a name with no indent is top-level.
    return sum(int(us) for us in re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| \S", report, re.M)) / 1e6


def _absolute(source: str) -> str:
    """`source` as an absolute path when it names a file (ribao runs in a temporary folder)."""
    return str(Path(source).resolve()) if Path(source).is_file() else source


def _scanned(home: Path) -> int:
    """Candidates the run screened, from its digest JSON (0 when it wrote none)."""
    import json

    found = sorted((home.parent / "out").glob("*.json"))
    return int(json.loads(found[0].read_text(encoding="utf-8"))["scanned"]) if found else 0


def demo(argv: list[str]) -> int:
    """Run `ribao demo` and print its figures, CPU seconds, load and llama.cpp's timings."""
    import argparse

    p = argparse.ArgumentParser(prog="benchmark.py demo")
    p.add_argument("--n-threads", type=int, help="[local] n_threads (generation)")
    p.add_argument("--n-threads-batch", type=int, help="[local] n_threads_batch (prompt processing)")
    p.add_argument("--flash-attn", choices=["true", "false"], help="[local] flash_attn [default: true]")
    p.add_argument("--triage-words", type=int, help="triage_abstract_words [demo: 20]")
    p.add_argument("--critic-rounds", type=int, help="max_critic_rounds [demo: 1]")
    opts = p.parse_args(argv)
    top = {"triage_abstract_words": opts.triage_words, "max_critic_rounds": opts.critic_rounds}
    local = {"n_threads": opts.n_threads, "n_threads_batch": opts.n_threads_batch}
    local["flash_attn"] = opts.flash_attn
    config = "".join(f"{k} = {v}\n" for k, v in top.items() if v is not None)
    config += "[local]\n" + "".join(f"{k} = {v}\n" for k, v in local.items() if v is not None)
    load = os.getloadavg()
    code, _, home, _ = _run(["demo"], config, {"HF_HUB_OFFLINE": "1"})
    end = os.getloadavg()[0]  # CPU seconds: `_report`'s CPU line (ribao and the llama.cpp server)
    print(f"\nload avg     {load[0]:.2f} at start, {end:.2f} at end (1 min; {os.cpu_count()} CPUs)")
    log = home / "logs" / "llama-server.log"
    if log.exists():
        t = llama_timings(log.read_text(encoding="utf-8", errors="replace"))
        pp = t["prompt_tokens"] / t["prompt_s"] if t["prompt_s"] else 0.0
        tg = t["gen_tokens"] / t["gen_s"] if t["gen_s"] else 0.0
        print(
            f"llama.cpp    {t['requests']} requests: prompt {t['prompt_tokens']:,} tokens evaluated in "
            f"{t['prompt_s']:.1f} s ({pp:.0f} tok/s), {t['reused_tokens']:,} reused from the KV cache; "
            f"generation {t['gen_tokens']:,} tokens in {t['gen_s']:.1f} s ({tg:.0f} tok/s)"
        )
    return code


def llama_timings(log: str) -> dict[str, float]:
    """Sum llama.cpp's per-request timings in a llama-cpp-python server log (verbose, the default).

    Returns requests, prompt_tokens / prompt_s (prompt processing), gen_tokens / gen_s
    (generation), reused_tokens (the "N prefix-match hit" lines: prompt tokens served from the
    previous request's KV cache).
    """
    import re

    prompt = re.findall(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens", log)
    gen = re.findall(r"\beval time =\s*([\d.]+) ms /\s*(\d+) runs", log)  # "runs": not the prompt line
    return {
        "requests": len(prompt),
        "prompt_tokens": sum(int(n) for _, n in prompt),
        "prompt_s": sum(float(ms) for ms, _ in prompt) / 1000,
        "gen_tokens": sum(int(n) for _, n in gen),
        "gen_s": sum(float(ms) for ms, _ in gen) / 1000,
        "reused_tokens": sum(int(n) for n in re.findall(r"(\d+) prefix-match hit", log)),
    }


def _run(
    args: list[str],
    config: str | None,
    extra_env: dict[str, str],
    python: list[str] | None = None,
    stderr: IO[str] | None = None,
) -> tuple[int, float, Path, float]:
    """Run ribao in a fresh home; return exit status, wall seconds, the home, the start (monotonic).

    `python` are options for the interpreter (`-X importtime`, `-m cProfile …`); `stderr` takes ribao's.
    """
    tmp = tempfile.mkdtemp(prefix="ribao-bench-")
    home = Path(tmp) / "home"
    home.mkdir()
    if config:
        (home / "config.toml").write_text(config, encoding="utf-8")
    env = {**os.environ, "RIBAO_HOME": str(home), **extra_env}
    # As installed, ribao runs from cached bytecode; compiling its ~90 modules on every run (this
    # variable's effect) would add ~0.1 s of CPU that no user pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()  # the simulated provider stamps requests on this clock too
    done = subprocess.run(
        [sys.executable, *(python or []), "-m", "ribao", *args, "--quiet", "--out", str(Path(tmp) / "out")],
        env=env,
        cwd=tmp,
        stderr=stderr,
    )
    wall = time.monotonic() - started
    _report(args, done.returncode, wall, home)
    return done.returncode, wall, home, started


def main(argv: list[str]) -> int:
    """Run once and print the figures; returns the run's exit status."""
    if argv[:1] == ["sim"]:
        return sim(argv[1:])
    if argv[:1] == ["profiles"]:
        return profiles(argv[1:])
    if not argv or argv[0] == "demo" or argv[0].startswith("-"):
        return demo(argv[1:] if argv[:1] == ["demo"] else argv)
    return _run(argv, None, {})[0]


def _report(args: list[str], code: int, wall: float, home: Path) -> None:
    """Print the figures of the run recorded in `home`."""
    if True:  # noqa: SIM108 - keeps the report's body as it was
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = children.ru_maxrss / 1024
        print(f"command      ribao {' '.join(args)}")
        print(f"exit status  {code}")
        print(f"wall time    {wall:.1f} s")
        print(f"peak RSS     {peak_mb:.0f} MB (largest child: ribao or the llama.cpp server)")
        # CPU seconds do not grow with the machine's load the way wall seconds do.
        print(f"CPU          {children.ru_utime + children.ru_stime:.2f} s user+sys (ribao and its children)")
        if code != 0 or not (home / "runs.sqlite").exists():
            return
        from ribao.runs.db import RunLog

        with RunLog.open(home) as log:
            run = log.list_runs()[0]
            nodes = log.nodes(run.run_id)
            usage = log.usage_by_agent(run.run_id)
        per_node: dict[str, list[float]] = defaultdict(list)
        for n in nodes:
            if n.duration_s is not None:
                per_node[n.node].append(n.duration_s)
        print(f"\nrun {run.run_id}: {run.date}, {len(run.picks)} picks, status {run.status}")
        # Writer tasks run in parallel: their seconds add up to more than the node's wall time.
        print(f"{'node':<18}{'tasks':>6}{'seconds':>10}")
        for node, secs in per_node.items():
            print(f"{node:<18}{len(secs):>6}{sum(secs):>10.1f}")
        # Tokens as the provider reported them (usage), cached = prompt tokens served from its cache.
        print(f"\n{'agent':<10}{'calls':>6}{'input':>10}{'output':>9}{'cached':>9}{'cost':>12}")
        for agent, u in usage.items():
            cost = "unknown" if u.cost is None else f"{u.cost:.4f}"
            print(
                f"{agent:<10}{u.calls:>6}{u.input_tokens:>10,}{u.output_tokens:>9,}{u.cached_tokens:>9,}{cost:>12}"
            )
        total = "unknown" if run.cost is None else f"{run.cost:.4f} {run.currency}"
        print(
            f"{'total':<10}{sum(u.calls for u in usage.values()):>6}{run.input_tokens:>10,}"
            f"{run.output_tokens:>9,}{run.cached_tokens:>9,}{total:>12}"
        )
        return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
