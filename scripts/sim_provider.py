"""A simulated OpenAI-compatible provider for the benchmark: valid tool calls after a latency model.

Each chat request is answered with valid arguments for its forced tool (the scripted agents of
tests/fakes.py) after `ttft + output_tokens / tokens_per_s` seconds, times a uniform jitter
(deterministic: seeded by the request body). Tokens are estimated (prompt: characters / 2.5 for
mixed Chinese and English text; output: JSON characters / 3.5) and reported in `usage`. Every
request's stage and simulated service time are kept so the critical path can be computed:
parallel stages (triage batches, writers) count their slowest request, sequential ones add up.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes import default_responder, valid_args  # noqa: E402
from tests.stub_openai import StubOpenAI  # noqa: E402

PARALLEL = {"TriageScores": "triage", "MustReadOutput": "writers", "NotableOutput": "writers"}


@dataclass
class Served:
    """One simulated request: its stage, tool, seconds of service, tokens in and out."""

    stage: str
    tool: str
    seconds: float
    tokens_in: int
    tokens_out: int
    at: float = field(default_factory=time.monotonic)


class LatencyModel:
    """The responder of a `StubOpenAI` that sleeps like a provider: ttft + tokens / rate, jittered."""

    def __init__(self, ttft: float = 0.8, tokens_per_s: float = 60.0, jitter: float = 0.15) -> None:
        self.ttft, self.rate, self.jitter = ttft, tokens_per_s, jitter
        self.served: list[Served] = []
        self.lock = threading.Lock()
        self._seq_stage = 0

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        fn = body["tools"][0]["function"]
        args = default_responder(fn["name"], fn["parameters"], []) or valid_args(fn["parameters"])
        prompt = sum(len(str(m.get("content") or "")) for m in body["messages"])
        tokens_in = int(prompt / 2.5) + len(json.dumps(fn["parameters"])) // 4
        tokens_out = max(1, int(len(json.dumps(args, ensure_ascii=False)) / 3.5))
        seed = int.from_bytes(
            hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=8).digest()
        )
        factor = random.Random(seed).uniform(1 - self.jitter, 1 + self.jitter)
        seconds = (self.ttft + tokens_out / self.rate) * factor if self.rate else 0.0
        time.sleep(seconds)
        with self.lock:
            stage = PARALLEL.get(fn["name"], "")
            if not stage:
                self._seq_stage += 1
                stage = f"{fn['name']}#{self._seq_stage}"
            self.served.append(Served(stage, fn["name"], seconds, tokens_in, tokens_out))
        usage = {"prompt_tokens": tokens_in, "completion_tokens": tokens_out}
        return {"tool": fn["name"], "args": args, "usage": usage}

    def critical_path(self) -> float:
        """Seconds if every independent call ran at once: max per parallel stage, sum of the rest.

        The writers of the last critic round form one stage; triage batches one stage."""
        stages: dict[str, float] = {}
        for s in self.served:
            stages[s.stage] = max(stages.get(s.stage, 0.0), s.seconds)
        return sum(stages.values())


def start(ttft: float, rate: float, jitter: float) -> tuple[StubOpenAI, LatencyModel]:
    """Start the simulated provider on a loopback port; stop it with `stub.__exit__()`."""
    model = LatencyModel(ttft, rate, jitter)
    stub = StubOpenAI(model_id="sim-chat")
    stub.responder = model
    stub.__enter__()
    return stub, model
