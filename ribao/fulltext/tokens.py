"""Count tokens: the model's own tokenizer when one answers offline (llama.cpp), else a safe estimate."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import requests

# An ASCII letter run costs at most one token per 2.5 letters in the BPE vocabularies measured
# (SmolLM2, GPT-4o's o200k); digits, punctuation and LaTeX symbols are counted one token each, and any
# a space not before a letter counts one; any
# other character (Chinese included) as many tokens as its UTF-8 bytes: a byte-level BPE never needs
# more. So the estimate never undercounts Chinese or LaTeX; for English prose it overcounts ~1.3-1.6x.
_PIECE = re.compile(r"[A-Za-z]+|[0-9]|[^\x00-\x7f]|\n|[ \t]{2,}|[ \t](?![A-Za-z])|[^\sA-Za-z0-9]")


def estimate_tokens(text: str) -> int:
    """Return a conservative token count of `text` (see the module comment for the rules)."""
    total = 0
    for piece in _PIECE.findall(text):
        c = piece[0]
        if c.isascii() and c.isalpha():
            total += math.ceil(len(piece) / 2.5)
        elif not c.isascii():
            total += len(piece.encode("utf-8"))
        else:
            total += 1
    return total


class Counted(NamedTuple):
    """A token count and which counter made it: ``llama.cpp`` (the model's tokenizer) or ``estimate``."""

    tokens: int
    by: str


@dataclass(frozen=True)
class TokenCounter:
    """Count tokens for one model: `tokenize_url` is llama.cpp's ``/extras/tokenize/count`` (None: estimate).

    Immutable, so concurrent writer tasks can share it: each count says which counter made it.
    """

    tokenize_url: str | None = None

    @classmethod
    def for_local_server(cls, base_url: str) -> TokenCounter:
        """Return a counter using the llama.cpp server whose OpenAI base URL is `base_url` (``…/v1``)."""
        root = base_url.rstrip("/").removesuffix("/v1")
        return cls(tokenize_url=f"{root}/extras/tokenize/count")

    def count(self, text: str) -> Counted:
        """Return the tokens of `text`; `estimate_tokens` when there is no server or it fails.

        Blocking (an HTTP request of up to 30 s): call it from a worker thread, never the event loop.
        """
        if self.tokenize_url is not None:
            try:
                resp = requests.post(self.tokenize_url, json={"input": text}, timeout=30)
                resp.raise_for_status()
                return Counted(int(resp.json()["count"]), "llama.cpp")
            except (requests.RequestException, ValueError, KeyError):
                pass  # the estimate never undercounts; the record says which counter answered
        return Counted(estimate_tokens(text), "estimate")

    @property
    def exact(self) -> bool:
        """True when counts come from the model's own tokenizer."""
        return self.tokenize_url is not None


@dataclass
class TokenBudget:
    """The writer model's context window (tokens) and the output reserved in it (its max_tokens)."""

    window: int = 8192
    reserve: int = 2048
    counter: TokenCounter = field(default_factory=TokenCounter)

    # Per-message chat-template tokens, and the longest re-ask note ainvoke_structured appends.
    MESSAGE_OVERHEAD = 16
    RETRY_NOTE = 256

    def room(self, *prompt_parts: str) -> int:
        """Return the tokens left for paper text once `prompt_parts` (system prompt, the user prompt
        without the excerpt, the output schema) and the output reserve are in; 5% kept as a margin."""
        used = sum(self.counter.count(p).tokens for p in prompt_parts)
        used += self.MESSAGE_OVERHEAD * (len(prompt_parts) + 1) + self.RETRY_NOTE
        return int((self.window - self.reserve - used) * 0.95)
