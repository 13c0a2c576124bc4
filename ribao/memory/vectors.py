"""A day's embeddings kept on disk, so a re-run or a resume of that day embeds nothing twice.

One file per embedder and announcement day, ``<folder>/<embedder>/<yyyy-mm-dd>.npz``, holding the
sha256 of each embedded text and its vector. The recall of a day fills it with the candidates; the
remember step of that day then finds its picks there (same texts), so MiniLM runs once per day.
Only the newest `keep` days are kept per embedder. Filling a day is single-flight: runs of one day
started at once (a worker's jobs, several workers on one home) take the day's file lock, and each
after the first finds the vectors there instead of embedding the whole day again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from filelock import FileLock

from ribao.files import write_file

KEEP_DAYS = 14
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def text_key(text: str) -> str:
    """Return the hex sha256 of the UTF-8 text (the cache key of its vector)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DayVectors:
    """Vectors of one embedder by announcement day under `folder`; files that fail to load are ignored."""

    def __init__(self, folder: Path, embedder: str, *, keep: int = KEEP_DAYS) -> None:
        self.folder = Path(folder) / _SAFE.sub("_", embedder)
        self.keep = keep

    def _path(self, date: dt.date) -> Path:
        return self.folder / f"{date.isoformat()}.npz"

    def _lock(self, date: dt.date) -> Path:
        return self.folder.parent / ".locks" / f"{self.folder.name}-{date.isoformat()}.lock"

    def load(self, date: dt.date) -> dict[str, np.ndarray]:
        """Return the cached vectors of `date` by text key; {} when there are none or the file is bad."""
        try:
            with np.load(self._path(date)) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError):
            return {}
        return {str(k): v for k, v in zip(keys, vectors, strict=True)}

    def save(self, date: dt.date, vectors: dict[str, np.ndarray]) -> None:
        """Write the vectors of `date` (atomically: a crash leaves the old file), then drop old days."""
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = np.array(sorted(vectors), dtype=str)
        matrix = np.stack([vectors[k] for k in keys]).astype(np.float32) if len(keys) else np.zeros((0, 0))
        data = io.BytesIO()
        np.savez(data, keys=keys, vectors=matrix)
        write_file(self._path(date), data.getvalue())
        days = sorted(self.folder.glob("????-??-??.npz"))
        for old in days[: max(0, len(days) - self.keep)]:
            old.unlink(missing_ok=True)
            self._lock(dt.date.fromisoformat(old.stem)).unlink(missing_ok=True)

    def embed(
        self, date: dt.date, texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray]
    ) -> np.ndarray:
        """Return the (len(texts), dim) vectors of `texts`, calling `embed` only for uncached ones."""
        keys = [text_key(t) for t in texts]
        cached = self.load(date)
        if any(k not in cached for k in keys):
            self._lock(date).parent.mkdir(parents=True, exist_ok=True)
            # Under the day's lock, read again: another run may have embedded these while we waited.
            with FileLock(self._lock(date)):
                cached = self.load(date)
                missing = list(dict.fromkeys(k for k in keys if k not in cached))
                if missing:
                    first = {k: t for k, t in zip(keys, texts, strict=True)}
                    fresh = embed([first[k] for k in missing])
                    cached.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
                    self.save(date, cached)
        return np.stack([cached[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)
