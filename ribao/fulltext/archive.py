"""Open an arXiv e-print safely: a gzip'd tar, a gzip'd single file or a plain file, read into memory.

Nothing is written to disk. Members with absolute paths, ``..`` parts, links or special files are
skipped and reported; the unpacked total is capped (a decompression bomb stops with an error).
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
import zlib

from ribao.errors import ArchiveError


def _gunzip(data: bytes, limit: int) -> bytes:
    """Return `data` decompressed, reading at most `limit` bytes; raise `ArchiveError` beyond."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"corrupt gzip: {exc}") from exc
    if len(out) > limit:
        raise ArchiveError(f"e-print unpacks to more than {limit:,} bytes (decompression bomb?)")
    return out


def _safe_name(name: str) -> str | None:
    """Return the member's normalised relative path, or None when it is absolute or climbs out."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    norm = posixpath.normpath(name.replace("\\", "/"))
    if norm == ".." or norm.startswith("../") or "/../" in f"/{norm}/":
        return None
    return norm


def read_eprint(data: bytes, limit: int) -> tuple[dict[str, bytes], list[str]]:
    """Return ({relative path: bytes} of the e-print's regular files, [skipped members and why]).

    Raises `ArchiveError` for a corrupt archive, more than `limit` unpacked bytes, or a PDF e-print.
    """
    raw = _gunzip(data, limit) if data[:2] == b"\x1f\x8b" else data
    if raw[:5] == b"%PDF-":
        raise ArchiveError("the e-print is a PDF, not LaTeX source")
    if not tarfile.is_tarfile(io.BytesIO(raw)):
        return {"main.tex": raw}, []
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            for member in tar:
                name = _safe_name(member.name)
                if name is None:
                    skipped.append(f"{member.name}: path outside the archive")
                    continue
                if member.issym() or member.islnk():
                    skipped.append(f"{member.name}: link")
                    continue
                if not member.isfile():
                    continue
                total += member.size
                if total > limit:
                    raise ArchiveError(f"e-print unpacks to more than {limit:,} bytes (decompression bomb?)")
                fh = tar.extractfile(member)
                if fh is not None:
                    files[name] = fh.read(member.size)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ArchiveError(f"corrupt e-print archive: {exc}") from exc
    return files, skipped
