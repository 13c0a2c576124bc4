"""Turn texts into L2-normalised vectors for the memory: all-MiniLM-L6-v2 offline (ONNX), or word hashing."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from ribao.errors import MemoryStoreError
from ribao.memory.minilm import MiniLMEmbedder


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to L2-normalised vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit-length vector of `dim` floats per text, in input order."""
        ...


_TOKEN = re.compile(r"[^\W_]+")
# Without these, any two English abstracts share enough filler words to look alike.
_STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string than as 42 quoted items
        "a an and are as at be by can for from has have in is it its of on or our that the their this "
        "to we which with these those into than then also such via using based show propose paper"
    ).split()
)


class HashEmbedder:
    """Deterministic bag-of-words hashing (signed feature hashing of lower-cased words).

    Texts that share words get high cosine similarity; unrelated texts land near 0. Needs no
    model and no torch, so it serves tests and machines without the `embed` extra.
    """

    def __init__(self, dim: int = 384, name: str = "hash-bow-v1") -> None:
        if dim < 2:
            raise MemoryStoreError(f"hash embedder dimension must be at least 2, got {dim}")
        self.dim = dim
        self.name = name

    def _vector(self, text: str) -> list[float]:
        """Return the unit vector of one text; a text without words maps to a fixed unit vector."""
        vec = [0.0] * self.dim
        for token in _TOKEN.findall(text.lower()):
            if token in _STOPWORDS:
                continue
            # blake2b rather than hash(): Python's str hash is salted per process.
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            vec[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vec))
        if norm == 0.0:
            # Zero vectors have no cosine; all word-less texts become the same unit vector instead.
            vec[0] = 1.0
            return vec
        return [x / norm for x in vec]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector of `dim` floats per text, in input order."""
        return [self._vector(t) for t in texts]


def make_embedder(name: str, model_dir: Path | None = None) -> Embedder:
    """Build the embedder called `minilm` (its ONNX export in `model_dir`, default
    `ribao.memory.minilm.default_model_dir()`) or `hash`; raise `MemoryStoreError` for any other name."""
    if name == "minilm":
        return MiniLMEmbedder(model_dir)
    if name == "hash":
        return HashEmbedder()
    raise MemoryStoreError(f"unknown embedder {name!r}; expected 'minilm' or 'hash'")
