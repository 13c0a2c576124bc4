"""A run whose process died (kill -9) shows as interrupted, not running forever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.runs.db import RunLog
from tests.support.runs_cli import app

KILLED = """
import os, signal, sys
from pathlib import Path
from ribao.runs.db import RunLog
log = RunLog.open(Path(sys.argv[1]))
log.start_run("01KILLED", settings={"source": "arxiv"})
log.close()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_run_is_interrupted_and_a_live_one_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("RIBAO_HOME", str(home))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", KILLED, str(home)], env=env, check=False)
    assert done.returncode == -signal.SIGKILL
    with RunLog.open(home) as log:  # this process is alive: its run stays running
        log.start_run("01ALIVE", settings={"source": "arxiv"})
    rows = {r["run_id"]: r for r in json.loads(CliRunner().invoke(app, ["runs", "list", "--json"]).output)}
    assert rows["01KILLED"]["status"] == "interrupted"
    assert rows["01ALIVE"]["status"] == "running"
    shown = CliRunner().invoke(app, ["runs", "show", "01KILLED"]).output
    assert "interrupted" in shown
    listed = json.loads(CliRunner().invoke(app, ["runs", "list", "--status", "interrupted", "--json"]).output)
    assert [r["run_id"] for r in listed] == ["01KILLED"]
