"""The full-text cache of one announcement day: `<home>/cache/fulltext/<YYYY-MM-DD>/`.

Per paper (``<id>v<N>``, ``/`` of old-style ids as ``_``): the raw file of each source that answered
(``.html``, ``.pdf``, ``.eprint``), a ``.<kind>.missing`` note for a source that answered 4xx, and
``.json``, the extracted `PaperText`. Every write is a temp file plus rename inside this folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ribao.files import write_file
from ribao.fulltext.document import Kind, PaperText

_EXT: dict[str, str] = {"html": "html", "pdf": "pdf", "latex": "eprint"}


class FulltextCache:
    """Raw files and extraction results of one day's picks; `root` is `<home>/cache/fulltext`."""

    def __init__(self, root: Path, day: dt.date) -> None:
        self.folder = root / day.isoformat()

    @staticmethod
    def stem(arxiv_id: str, version: int | None) -> str:
        """Return the file stem of a paper: canonical id with ``/`` as ``_``, plus ``vN`` when known."""
        return arxiv_id.replace("/", "_") + (f"v{version}" if version else "")

    def _write(self, path: Path, data: bytes) -> Path:
        write_file(path, data)
        return path

    def raw_path(self, stem: str, kind: Kind) -> Path:
        """Return where the raw file of one source is kept."""
        return self.folder / f"{stem}.{_EXT[kind]}"

    def put_raw(self, stem: str, kind: Kind, data: bytes) -> Path:
        """Keep a downloaded source; returns its path."""
        return self._write(self.raw_path(stem, kind), data)

    def missing(self, stem: str, kind: Kind) -> str | None:
        """Return the recorded 4xx error of a source, or None when it was never refused."""
        path = self.folder / f"{stem}.{kind}.missing"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def put_missing(self, stem: str, kind: Kind, error: str) -> None:
        """Record that a source answered 4xx, so a rerun does not ask again."""
        self._write(self.folder / f"{stem}.{kind}.missing", error.encode("utf-8"))

    def result(self, stem: str) -> PaperText | None:
        """Return the extracted text of a paper from an earlier run of this day, or None."""
        path = self.folder / f"{stem}.json"
        return PaperText.model_validate_json(path.read_bytes()) if path.is_file() else None

    def put_result(self, stem: str, text: PaperText) -> None:
        """Keep the extracted text of a paper (read by a rerun or a resume instead of extracting again)."""
        self._write(self.folder / f"{stem}.json", text.model_dump_json().encode("utf-8"))
