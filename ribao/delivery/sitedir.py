"""The site's own folder: refuse one whose replacement would cost the user files, build the new site
beside it, and swap it in with one rename so that a failed build leaves the old site as it was.

A folder the site wrote is marked by its manifest (`.ribao-site.json`, the names written); a rebuild
replaces such a folder, and any other non-empty folder only with `force`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from ribao.errors import SiteFolderError, SiteWriteError
from ribao.files import swap_folder

MANIFEST = ".ribao-site.json"
SHOWN = 5  # foreign names listed in the error; the rest are counted


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
        old = swap_folder(new, out)
    except OSError as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise SiteWriteError(f"cannot write the site {out}: {exc}; the old site is unchanged") from exc
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old)
