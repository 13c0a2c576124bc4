"""`langgraph dev` on a free loopback port, serving the repository's langgraph.json (stopped by PID)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import START_S, free_port

ROOT = Path(__file__).resolve().parent.parent.parent


@contextlib.contextmanager
def langgraph_dev(env: dict[str, str], log: Path) -> Iterator[str]:
    """Run `langgraph dev --no-browser --no-reload --port N` with `env`; yield its URL (skip when the
    CLI is missing). Its output goes to `log`, shown when it does not come up. It runs in the repository
    root, as langgraph.json's relative paths require, and keeps its state in `.langgraph_api/` there
    (git-ignored)."""
    cli = shutil.which("langgraph") or str(Path(sys.executable).parent / "langgraph")
    if not Path(cli).exists():
        pytest.skip("langgraph-cli[inmem] is not installed")
    port = free_port()
    env = {**env, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1", "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [cli, "dev", "--no-browser", "--no-reload", "--port", str(port),
             "--config", str(ROOT / "langgraph.json")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S  # a guard: the loop ends at once if the server exits
        while True:
            assert proc.poll() is None, "langgraph dev exited:\n" + log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "langgraph dev did not answer:\n" + log.read_text()[-3000:]
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/ok", timeout=2) as reply:
                if reply.status == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
