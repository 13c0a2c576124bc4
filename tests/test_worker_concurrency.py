"""How many jobs a worker runs at once: the provider's max_concurrency (at most 8), or --concurrency N."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.app.jobs import default_concurrency
from ribao.cli import app
from ribao.settings import load_settings


@pytest.mark.parametrize(
    ("config", "jobs"),
    [
        ('llm = "sim"\n[providers.sim]\nmodel = "m"\nmax_concurrency = 3\n', 3),
        ('llm = "sim"\n[providers.sim]\nmodel = "m"\n', 8),  # the default 32 in flight
        ('llm = "deepseek"\n[providers.deepseek]\nmax_concurrency = 1\n', 1),
        ('llm = "local"\n', 1),  # llama.cpp serves one request at a time
    ],
)
def test_a_worker_runs_as_many_jobs_as_the_provider_allows_at_most_8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, jobs: int
) -> None:
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path))
    assert default_concurrency(load_settings()) == jobs


def test_concurrency_below_one_is_a_bad_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["worker", "--concurrency", "0"])
    assert result.exit_code == 2
    assert "--concurrency" in result.output
