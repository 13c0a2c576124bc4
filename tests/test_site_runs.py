"""`ribao site build --runs`: the page of the run behind each digest, linked from its day page."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.graph import FIRST40, models, run, sample_settings


def test_site_build_with_runs_adds_and_links_each_runs_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = sample_settings(tmp_path, source=str(FIRST40))
    result = run(settings, None, models())
    monkeypatch.setenv("RIBAO_HOME", str(settings.home))
    (settings.home / "config.toml").write_text(f'out_dir = "{settings.out_dir}"\n', encoding="utf-8")
    out = CliRunner().invoke(app, ["site", "build", "--out", str(tmp_path / "site"), "--runs"])
    assert out.exit_code == 0, out.output
    assert out.output.strip().endswith("1 run page(s)")
    page = tmp_path / "site" / "runs" / f"{result.run_id}.html"
    assert f"Run {result.run_id}" in page.read_text(encoding="utf-8")
    day = (tmp_path / "site" / f"{result.date}.html").read_text(encoding="utf-8")
    assert f'href="runs/{result.run_id}.html"' in day
    plain = CliRunner().invoke(app, ["site", "build", "--out", str(tmp_path / "site")])
    assert plain.exit_code == 0 and not (tmp_path / "site" / "runs").exists()
