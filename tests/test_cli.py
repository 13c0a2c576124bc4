"""The command line: fetch output, exit statuses, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.samples import sample_listing


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
    assert result.exit_code == 2 and "unknown LLM provider 'nope'" in result.output
    assert not (tmp_path / "o").exists()


KNOWN_PROVIDERS = "deepseek, doubao, glm, kimi, local, ollama, openai, qwen"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["run", "--llm", "nosuch"], f"unknown LLM provider 'nosuch'; known: {KNOWN_PROVIDERS}"),
        (["run", "--push", "nohook"], "unknown push channel nohook; configured: none"),
        (["push", "2026-02-18", "--to", "nohook"], "unknown push channel nohook; configured: none"),
        (["run", "--categories", "cs.CL,cs.cl"], "not an arXiv category: 'cs.cl' (did you mean 'cs.CL'?)"),
        (["fetch", "--categories", "cs.LGG"], "not an arXiv category: 'cs.LGG' (did you mean 'cs.LG'?)"),
    ],
    ids=["llm", "push", "push-to", "categories", "fetch-categories"],
)
def test_a_flag_naming_nothing_known_is_bad_usage_in_one_line(home: Path, args: list[str], line: str) -> None:
    source = ["--source", str(sample_listing())] if args[0] != "push" else []
    result = CliRunner().invoke(app, [*args, *source], env={"OPENAI_API_KEY": "sk-test"})
    assert (result.exit_code, result.output.splitlines()) == (2, [f"ribao: error: {line}"])
    assert not (home / "runs.sqlite").exists()


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ('llm = "nosuch"\n', f"unknown LLM provider 'nosuch'; known: {KNOWN_PROVIDERS}"),
        ('categories = ["cs.XL"]\n', "not an arXiv category: 'cs.XL'"),
        ("[agents.writter]\nmodel = 'm'\n", "unknown agent 'writter' in agents (did you mean 'writer'?)"),
        ("[delivery]\nonly = ['x']\n", "unknown push channel x; configured: none"),
    ],
    ids=["llm", "categories", "agents", "delivery-only"],
)
def test_the_same_names_in_config_are_setting_errors(home: Path, toml: str, line: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["run", "--source", str(sample_listing())], env={"OPENAI_API_KEY": "sk-test"}
    )
    assert result.exit_code == 1
    [error] = result.output.splitlines()
    assert error.startswith(f"ribao: error: {line}")


def test_an_unknown_agent_is_bad_usage() -> None:
    for args in (["runs", "trace", "latest", "--agent", "nosuch"], ["replay", "latest", "--agent", "nosuch"]):
        result = CliRunner().invoke(app, args)
        assert (
            result.exit_code == 2
            and "'nosuch' is not one of 'screener', 'critic', 'writer', 'editor'" in (result.output)
        )


def test_a_missing_source_file_is_one_line_and_records_no_run(home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "--source", str(tmp_path / "nope.jsonl"), "--llm", "openai"],
        env={"OPENAI_API_KEY": "sk-test"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"ribao: error: unknown source '{tmp_path / 'nope.jsonl'}': neither 'arxiv' nor an existing file"
    ]
    assert not (home / "runs.sqlite").exists()


@pytest.mark.parametrize("flags", [["--must-read", "-1"], ["--must-read", "11"], ["--notable", "-2"]])
def test_an_out_of_range_flag_is_a_usage_error(flags: list[str]) -> None:
    result = CliRunner().invoke(app, ["run", "--source", str(sample_listing()), *flags])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("ribao: error: invalid settings: ")


def test_an_out_of_range_env_value_stays_a_setting_error() -> None:
    result = CliRunner().invoke(app, ["run", "--source", str(sample_listing())], env={"RIBAO_MUST_READ": "0"})
    assert result.exit_code == 1 and "must_read" in result.output


def test_help_keeps_bracketed_text() -> None:
    # rich markup once swallowed "[[push]]" and every "[default: …]" as style tags
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=200)
    assert result.exit_code == 0
    out = " ".join(result.output.split())
    assert "Send only to this [[push]] name" in out
    assert "Must-read picks [default: 3]" in out and "a [providers] name" in out
    assert "--push NAME" in out
    push = CliRunner().invoke(app, ["push", "--help"], terminal_width=200)
    assert "--to NAME" in push.output and "[[push]]" in push.output


def test_calendar_checks_config_keys(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("holidayz = []\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["calendar", "--from", "2026-02-16", "--to", "2026-02-20"])
    assert result.exit_code == 1
    assert "unknown setting 'holidayz' (did you mean 'holidays'?)" in result.output


def test_output_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    # `ribao fetch --json | head -1`: once head exits, the writer ends by SIGPIPE like other filters
    # (click alone exits 1 without a word, which reads as an error).
    proc = subprocess.Popen(
        [sys.executable, "-m", "ribao", "fetch", "--source", str(sample_listing()), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().startswith(b'{"id": ')
    proc.stdout.close()  # the reader goes away
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -13 and err == b""  # killed by SIGPIPE, nothing on stderr


@pytest.mark.parametrize(
    ("args", "hint", "expected"),
    [
        (["run", "--date", "18/02/2026"], "--date", "YYYY-MM-DD or latest"),
        (["fetch", "--date", "18/02/2026"], "--date", "YYYY-MM-DD or latest"),
        (["push", "18/02/2026"], "DATE", "YYYY-MM-DD"),
        (["push", "latest"], "DATE", "YYYY-MM-DD"),
        (["calendar", "--from", "18/02/2026"], "--from", "YYYY-MM-DD"),
    ],
)
def test_every_command_reads_dates_by_one_rule(args: list[str], hint: str, expected: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert f"Invalid value for {hint}: expected {expected}, got '{args[-1]}'" in " ".join(
        result.output.split()
    )
