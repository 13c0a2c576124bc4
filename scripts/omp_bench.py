"""Benchmark llama.cpp's OpenMP wait policy: one long prompt to the bundled SmolLM2 server per setting.

Starts `llama_cpp.server` (2 threads, then 1) with OMP_WAIT_POLICY unset (OpenMP's spinning default)
and PASSIVE (what ribao's local server sets), sends the same 1,200-token prompt for 46-120 tokens, and
prints wall, the server's CPU seconds and the load average. Run it while other work loads the cores to
see what a busy machine does to spinning threads. Asserts nothing.

    .venv/bin/python scripts/omp_bench.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ribao.llm.gguf import default_gguf  # noqa: E402

PROMPT = "Summarize: " + "Large language models are trained on text. " * 150


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def once(policy: str | None, threads: int) -> str:
    """Start a server with `policy` and `threads`, time one completion, stop it; return a line."""
    port, env = _port(), dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    args = ["--model", str(default_gguf()), "--port", str(port), "--n_ctx", "4096",
            "--n_threads", str(threads), "--n_threads_batch", str(threads)]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        body = json.dumps({"prompt": PROMPT, "max_tokens": 120, "temperature": 0}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/completions", body, {"Content-Type": "application/json"}
        )
        started = time.monotonic()
        usage = json.load(urllib.request.urlopen(request, timeout=1800))["usage"]
        wall = time.monotonic() - started
        cpu = sum(psutil.Process(proc.pid).cpu_times()[:2])
    finally:
        proc.terminate()
        proc.wait()
    return (f"OMP_WAIT_POLICY={policy or 'unset':8} threads={threads}  wall {wall:6.1f} s  server CPU "
            f"{cpu:5.1f} s  tokens {usage['prompt_tokens']}+{usage['completion_tokens']}  "
            f"load {os.getloadavg()[0]:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    for _ in range(rounds):
        for policy in (None, "PASSIVE"):
            print(once(policy, 2), flush=True)
    print(once(None, 1), flush=True)


if __name__ == "__main__":
    main()
