"""The `ribao runs` command group as its own typer app, and a populated run log, for the run-log tests."""

from __future__ import annotations

import typer
from typer.testing import CliRunner, Result

from ribao.commands.runs import runs_app

app = typer.Typer()
app.add_typer(runs_app, name="runs")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["runs", *args])
