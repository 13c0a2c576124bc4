"""Replace files and folders atomically: a crash or an error leaves the old ones (a leaf module)."""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_files(files: Mapping[Path, str | bytes]) -> None:
    """Write each `path: data` (text as UTF-8) via a temp file in the same folder, then rename them all.

    Folders are created as needed; files get the umask's usual mode (shareable, not mkstemp's 0600).
    Raises `OSError` when a file cannot be written, leaving every target as it was.
    """
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8") if isinstance(text, str) else text)
            os.chmod(tmp, 0o666 & ~_umask())
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def folder_problem(folder: Path) -> str | None:
    """Say why files cannot be written in `folder` (made as needed): a file stands at it or at a
    parent, or the nearest existing parent is not writable; None when nothing stands in the way."""
    path = folder.absolute()
    while not path.exists():
        if path.is_symlink():
            return f"{path} is a broken symbolic link"
        path = path.parent
    if not path.is_dir():
        return f"{path} is a file, not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{path} is not writable"
    return None


def write_file(path: Path, data: str | bytes) -> None:
    """Write one file atomically (`write_files`); raises `OSError`, leaving the old file."""
    write_files({path: data})


def swap_folder(new: Path, out: Path) -> Path | None:
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
