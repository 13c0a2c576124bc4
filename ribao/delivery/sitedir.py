"""The site's own folder: refuse one whose replacement would cost the user files, build the new site
beside it, and swap it in with one rename so that a failed build leaves the old site as it was.

A folder the site wrote is marked by its manifest (`.ribao-site.json`, the names written); a rebuild
replaces such a folder, and any other non-empty folder only with `force`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from ribao.errors import RibaoError

MANIFEST = ".ribao-site.json"
SHOWN = 5  # foreign names listed in the error; the rest are counted
AT_FDCWD = -100
RENAME_EXCHANGE = 2


class SiteFolderError(RibaoError):
    """The site's folder was refused: it is, holds or sits in the digests or home folder, is the
    current folder, or holds files the site did not write. A usage error (exit status 2)."""

    exit_code = 2


class SiteWriteError(RibaoError):
    """Writing or swapping in the new site failed; the old site is left as it was."""


def foreign_files(out: Path) -> list[str]:
    """Return the names in `out` its manifest does not list (every name without one), sorted;
    folders end in ``/``. A missing or empty folder holds none."""
    if not out.is_dir():
        return []
    try:
        written = set(json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]) | {MANIFEST}
    except (OSError, ValueError, KeyError, TypeError):
        written = set()
    return sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir() if p.name not in written)


def check_out(out: Path, protect: Sequence[tuple[str, Path]], *, force: bool = False) -> Path:
    """Return `out` resolved if the site may replace it; `protect` holds (label, folder) pairs the
    site must not be, hold or sit in (the digests and home folders).

    Raises `SiteFolderError`; `force` overrides only files the site did not write.
    """
    target = out.resolve()
    own = "give the site a folder of its own (e.g. --out site)"
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        where = "is" if target == cwd else "contains"
        raise SiteFolderError(f"--out {out} {where} the current folder {cwd}: {own}")
    for label, folder in protect:
        f = folder.resolve()
        relation = "is" if target == f else "is inside" if f in target.parents else "contains" if (
            target in f.parents) else None  # fmt: skip
        if relation:
            raise SiteFolderError(f"--out {out} {relation} the {label} {f}: {own}")
    if target.exists() and not target.is_dir():
        raise SiteFolderError(f"--out {out} is a file: {own}")
    foreign = foreign_files(target)
    if foreign and not force:
        more = f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else ""
        raise SiteFolderError(
            f"--out {out} holds files the site did not write: {', '.join(foreign[:SHOWN])}{more};"
            " move them, or pass --force to replace the folder with them"
        )
    return target


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a new empty folder beside `out` (resolved, checked); when the block ends, write its
    manifest and swap it in for `out`. If anything fails, remove it and raise (`SiteWriteError` for
    an OS error), leaving `out` untouched."""
    out.parent.mkdir(parents=True, exist_ok=True)
    new = out.with_name(f".{out.name}.{secrets.token_hex(4)}.new")
    new.mkdir()  # not mkdtemp: its 0700 would make the site unreadable to a web server
    try:
        yield new
        names = sorted(p.name for p in new.iterdir())
        (new / MANIFEST).write_text(json.dumps({"written_by": "ribao site build", "files": names}), "utf-8")
        old = swap(new, out)
    except OSError as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise SiteWriteError(f"cannot write the site {out}: {exc}; the old site is unchanged") from exc
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old)


def swap(new: Path, out: Path) -> Path | None:
    """Put folder `new` in place of `out` in one rename; return where the old `out` now is (None if
    there was none). Where the OS cannot exchange two folders, the old one is renamed aside first."""
    if not out.exists():
        new.rename(out)
        return None
    if exchange(new, out):
        return new
    old = out.with_name(f".{out.name}.{secrets.token_hex(4)}.old")
    out.rename(old)
    try:
        new.rename(out)
    except OSError:
        old.rename(out)
        raise
    return old


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux `renameat2` with RENAME_EXCHANGE); False where unsupported."""
    if sys.platform != "linux":
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))
