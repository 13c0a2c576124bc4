"""A run id that names no run is bad usage (exit status 2) for every command that takes one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.runs import RUN_A, populate

COMMANDS = [
    ["runs", "show", "nosuch"],
    ["runs", "why", "nosuch", "2602.00001"],
    ["runs", "diff", RUN_A, "nosuch"],
    ["runs", "diff", "nosuch", RUN_A],
    ["runs", "trace", "nosuch"],
    ["runs", "export", "nosuch", "--endpoint", "http://127.0.0.1:9/v1/traces"],
    ["runs", "resume", "nosuch"],
    ["replay", "nosuch", "--agent", "writer"],
    ["eval", "score", "nosuch"],
    ["eval", "compare", RUN_A, "nosuch"],
    ["eval", "baseline", "pin", "nosuch"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]) + (" A" if RUN_A in a else ""))
def test_an_unknown_run_id_is_bad_usage(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    populate(home)
    monkeypatch.setenv("RIBAO_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ribao: error: ") and "'nosuch'" in lines[0]


@pytest.mark.parametrize("args", [["runs", "show", "latest"], ["replay", "latest", "--agent", "writer"]])
def test_no_run_recorded_yet_is_bad_usage(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("ribao: error: ") and "no run" in result.output
