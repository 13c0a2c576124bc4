"""Time what a provider's faults cost a run: a burst of 500s that heals, and a provider that is down.

Usage: python scripts/bench_faults.py [--burst SECONDS] [--runs N]

Each case is a real `ribao run --quiet` process on the sample listing (2026-02-18, 9 triage
batches at once, then 17 calls) against the loopback OpenAI stub with the default provider
settings (`retry_seconds`, `backoff_seconds`, `breaker_threshold`), a fresh home and the hash embedder:

- burst: every request is answered HTTP 500 for SECONDS (default 10) after the first one, then
  normally; prints the exit status, whether the digest was written, the wall time, the 500s
  answered and the attempts of the most-retried request;
- dead: the provider's port refuses connections; prints the exit status, the wall time and the
  error line, then the time to fail of 9 calls at once (triage) and of 1 (a sequential agent)
  measured inside one process from the first request. A run without fault is timed once for
  reference (imports, listing, graph).
Full text is off (`[fulltext] enabled = false`): with arXiv unreachable it would dominate the time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.fakes import default_responder, valid_args  # noqa: E402
from tests.support.stub_openai import Burst, StubOpenAI, closed_port_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LISTING = ROOT / "ribao" / "data" / "2026-02-18.cs.jsonl"


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """Answer any forced tool call with valid arguments (the scripted agents of tests/support/fakes)."""
    fn = body["tools"][0]["function"]
    return {
        "tool": fn["name"],
        "args": default_responder(fn["name"], fn["parameters"], []) or valid_args(fn["parameters"]),
    }


def run(base_url: str) -> tuple[int, float, str, bool]:
    """Run `ribao run` once against `base_url`; return exit status, wall seconds, stderr, digest written."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "config.toml").write_text(
            f'llm = "stub"\n[providers.stub]\nbase_url = "{base_url}"\napi_key_env = "STUB_API_KEY"\n'
            'model = "stub-chat"\n[memory]\nembedder = "hash"\n[fulltext]\nenabled = false\n',
            encoding="utf-8",
        )
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "RIBAO_HOME": str(home), "STUB_API_KEY": "sk-bench", "PYTHONPATH": path}
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "ribao", "run", "--source", str(LISTING), "--out", str(out), "--quiet"]
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        return proc.returncode, wall, proc.stderr.strip(), (out / "2026-02-18.md").is_file()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--burst", type=float, default=10.0, help="seconds of HTTP 500 [default: 10]")
    p.add_argument("--runs", type=int, default=1, help="runs of each case [default: 1]")
    opts = p.parse_args()
    with StubOpenAI() as stub:
        stub.responder = respond
        status, wall, _, written = run(stub.base_url)
        sent = len(stub.chat_requests)
        print(f"no fault: exit {status}, digest written: {written}, {wall:.1f} s, {sent} requests")
    for _ in range(opts.runs):
        with StubOpenAI() as stub:
            stub.responder = burst = Burst(opts.burst, respond)
            status, wall, err, written = run(stub.base_url)
            tries = Counter(str(r.body) for r in stub.chat_requests).most_common(1)[0][1]
            healed = f"healed {burst.healed:.1f} s after the first 500" if burst.healed else "never healed"
            print(f"burst of 500s for {opts.burst:g} s: exit {status}, digest written: {written}, "
                  f"{wall:.1f} s, {burst.failed} answered 500, {healed}, a request sent at most {tries} times"
                  + (f"\n  {err}" if err else ""))  # fmt: skip
    for _ in range(opts.runs):
        status, wall, err, written = run(closed_port_url())
        print(f"dead provider (connection refused): exit {status}, {wall:.1f} s\n  {err}")
    for calls in (9, 1):
        seconds, error = asyncio.run(fail_fast(calls))
        print(
            f"dead provider, {calls} call(s) at once through ribao.llm: failed after {seconds:.2f} s: {error}"
        )


async def fail_fast(calls: int) -> tuple[float, str]:
    """Send `calls` requests at once to a refused port with the default settings; time the failure."""
    from ribao.llm.config import ModelConfig
    from ribao.llm.gates import gate
    from ribao.llm.limits import Limits
    from ribao.llm.models import make_chat_model

    cfg = ModelConfig(model="stub-chat", base_url=closed_port_url(), api_key_env=None)
    model = make_chat_model(cfg)
    started = time.perf_counter()
    out = await asyncio.gather(*(model.ainvoke("hi") for _ in range(calls)), return_exceptions=True)
    seconds = time.perf_counter() - started
    attempts = gate(cfg.provider_key, Limits.from_config(cfg)).attempts
    return seconds, f"{attempts} attempts, {type(out[0]).__name__}: {out[0]}"


if __name__ == "__main__":
    main()
