"""The command line: fetch output, exit statuses, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app, sample_listing


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_fetch_json_prints_the_normalised_listing() -> None:
    result = invoke("fetch", "--source", str(sample_listing()), "--json")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    rows = [json.loads(line) for line in result.output.splitlines()]  # type: ignore[attr-defined]
    assert len(rows) == 180
    glm = next(r for r in rows if r["id"] == "2602.15763")
    assert glm["code_url"] == "https://github.com/zai-org/GLM-5"
    assert glm["primary_category"] == "cs.LG" and len(glm["authors"]) == 187
    assert set(glm) >= {"id", "version", "title", "authors", "abstract", "categories", "primary_category",
                        "comment", "code_url"}  # fmt: skip
    assert not any("v" in r["id"] for r in rows)


def test_fetch_no_cross_lists_keeps_primary_categories_only() -> None:
    result = invoke("fetch", "--source", str(sample_listing()), "--json", "--no-cross-lists")
    rows = [json.loads(line) for line in result.output.splitlines()]  # type: ignore[attr-defined]
    assert len(rows) == 134 and {r["primary_category"] for r in rows} == {"cs.CL", "cs.AI", "cs.LG"}


@pytest.mark.parametrize("day", ["2026-02-21", "2025-12-26"])  # a Saturday; after Christmas evening
def test_a_day_without_announcement_exits_3_without_network(day: str) -> None:
    # The endpoint is unroutable: any request would fail with another error and status 1.
    # No --llm: the default provider has no key here, and a day without listing needs none.
    env = {"RIBAO_ARXIV__ENDPOINT": "http://127.0.0.1:9/api/query", "OPENAI_API_KEY": ""}
    result = CliRunner().invoke(app, ["run", "--source", "arxiv", "--date", day], env=env)
    assert result.exit_code == 3, result.output
    assert result.output.startswith("ribao: no announcement: arXiv has no listing dated")
    quiet = CliRunner().invoke(app, ["run", "--source", "arxiv", "--date", day, "--quiet"], env=env)
    assert quiet.exit_code == 3 and quiet.output == ""


def test_bad_input_is_one_line_with_status_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fetch", "--source", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 1
    assert result.output.startswith("ribao: error: unknown source") and "Traceback" not in result.output
    bad = CliRunner().invoke(app, ["fetch", "--date", "18/02/2026", "--source", str(sample_listing())])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_unknown_provider_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--source", str(sample_listing()), "--llm", "nope",
                                      "--out", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 1 and "unknown LLM provider 'nope'" in result.output
    assert not (tmp_path / "o").exists()
