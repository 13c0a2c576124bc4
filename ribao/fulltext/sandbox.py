"""Run one extraction in a child process with a deadline and an address-space limit."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ribao.errors import ExtractionFailed
from ribao.fulltext.document import Section


def _limit_memory(megabytes: int) -> Callable[[], None]:
    def apply() -> None:
        size = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


def extract_in_subprocess(
    kind: str, path: Path, *, seconds: float, memory_mb: int, unpacked_limit: int
) -> tuple[list[Section], int, list[str]]:
    """Return (sections, hidden dropped, skipped members) of the raw file at `path`.

    The child (`ribao.fulltext.worker`) reads the file and writes nothing. Raises `ExtractionFailed`
    after `seconds` (the child is killed), when it exceeds `memory_mb` of address space, or when it
    rejects the file.
    """
    cmd = [sys.executable, "-m", "ribao.fulltext.worker", kind, str(path), str(unpacked_limit)]
    # The child imports this very copy of ribao (a worktree or a checkout), not whichever is installed.
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(
            cmd,
            env=env,
            capture_output=True,
            timeout=seconds,
            stdin=subprocess.DEVNULL,
            preexec_fn=_limit_memory(memory_mb) if sys.platform == "linux" else None,
        )
    except subprocess.TimeoutExpired:
        raise ExtractionFailed(
            f"{kind} extraction ran past its {seconds:g} s deadline and was killed"
        ) from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = reason[-1] if reason else f"exit status {done.returncode}"
        if "MemoryError" in last or done.returncode < 0:
            last = f"{last} (memory limit {memory_mb} MB)"
        raise ExtractionFailed(f"{kind} extraction failed: {last}")
    out = json.loads(done.stdout)
    return [Section(**s) for s in out["sections"]], int(out["hidden"]), list(out["skipped"])
