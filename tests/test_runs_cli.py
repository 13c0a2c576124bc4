"""`ribao runs list | show | trace` on a run log populated through `RunLog` in a temporary home."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.runs import (
    DAY,
    KEEP_REASON,
    REPLACE_REASON,
    ROUND2_REASON,
    RUN_A,
    RUN_B,
    RUN_C,
    SETTINGS,
    STEPS_A,
    populate,
    record_steps,
)
from tests.support.runs_cli import (
    invoke,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "160")
    return tmp_path / "home"


@pytest.fixture
def populated(home: Path) -> Path:
    populate(home)
    return home


def test_list_shows_the_latest_runs_first(populated: Path) -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("01K")]
    assert [line.split()[0] for line in lines] == [RUN_C, RUN_B, RUN_A]
    assert "no_announcement" in lines[0] and "failed" in lines[1]
    assert re.search(r"done\s+2\s+10,670\s+¥0\.0342", lines[2])


def test_list_piped_keeps_whole_rows(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")  # piped, no terminal width: rich alone would wrap at 80 columns
    lines = invoke("list").output.splitlines()
    assert len(lines) == 4  # the header and one line per run
    assert [line.split()[0] for line in lines[1:]] == [RUN_C, RUN_B, RUN_A]
    assert lines[0].split() == ["run", "started", "day", "status", "picks", "tokens", "cost", "time"]


def test_list_json_and_status_filter(populated: Path) -> None:
    rows = json.loads(invoke("list", "--json").stdout)
    assert [r["run_id"] for r in rows] == [RUN_C, RUN_B, RUN_A]
    assert rows[2]["picks"] == 2 and rows[2]["input_tokens"] == 8530 and "settings" not in rows[2]
    failed = json.loads(invoke("list", "--status", "failed", "--json").stdout)
    assert [r["run_id"] for r in failed] == [RUN_B]
    assert invoke("list", "--status", "nope").exit_code == 2
    assert "No runs with status interrupted." in invoke("list", "--status", "interrupted").output


def test_list_without_a_log_creates_nothing(home: Path) -> None:
    result = invoke("list")
    assert result.exit_code == 0 and "No runs recorded yet" in result.output
    assert invoke("list", "--json").output.strip() == "[]"
    assert not home.exists()


def test_show_per_agent_rows_add_up_to_the_header(populated: Path) -> None:
    result = invoke("show", "01K0AA")
    assert result.exit_code == 0, result.output
    out = result.output
    header = re.search(r"tokens ([\d,]+) in / ([\d,]+) out \(([\d,]+) cached\) · cost (¥[\d.]+)", out)
    assert header is not None
    rows = {
        m[0]: m[1:]
        for m in re.findall(
            r"^(\w+)\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+(¥[\d.]+)\s*$", out, flags=re.M
        )
    }
    assert list(rows) == ["screener", "critic", "writer", "editor", "total"]
    assert rows["total"][1:] == header.groups()
    for col in range(4):
        assert sum(int(r[col].replace(",", "")) for a, r in rows.items() if a != "total") == int(
            rows["total"][col].replace(",", "")
        )
    assert "does not add up" not in out
    for text in (
        "critic/system.md.j2",
        "user",
        "abababababab",
        "Sparse Experts at Scale",
        "规模化稀疏专家的系统性研究",
        "round 1: revise",
        REPLACE_REASON,
        ROUND2_REASON,
        "llm deepseek",
        "2026-02-18.md",
    ):
        assert text in out, text


def test_show_json_totals_match(populated: Path) -> None:
    data = json.loads(invoke("show", RUN_A, "--json").stdout)
    for field in ("input_tokens", "output_tokens", "cached_tokens"):
        assert sum(a[field] for a in data["by_agent"].values()) == data[field]
    assert sum(a["cost"] for a in data["by_agent"].values()) == pytest.approx(data["cost"])
    assert data["critiques"][0]["decisions"][0]["reason"] == REPLACE_REASON


def test_show_of_a_run_still_going_counts_the_calls_recorded_so_far(home: Path) -> None:
    from ribao.runs import RunLog

    with RunLog.open(home) as log:
        log.start_run("01K9RUNNING", settings=SETTINGS, date=DAY, categories=["cs.CL"])
        record_steps(log, "01K9RUNNING", STEPS_A[:3])
        calls = log.calls("01K9RUNNING")
    data = json.loads(invoke("show", "01K9RUNNING", "--json").stdout)
    assert data["status"] == "running"
    assert data["input_tokens"] == sum(c.input_tokens for c in calls) > 0
    assert data["cost"] == pytest.approx(sum(c.cost or 0 for c in calls)) and data["currency"] == "CNY"
    listed = json.loads(invoke("list", "--json").stdout)
    assert listed[0]["input_tokens"] == data["input_tokens"]


def test_trace_agent_critic_shows_each_verdict_and_reason(populated: Path) -> None:
    result = invoke("trace", RUN_A, "--agent", "critic")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("▶ critique_picks") == 2 and "▶ screen_papers" not in out
    assert "critic prompt critique round 1" in out and "screener prompt" not in out
    assert re.search(rf"P001\s+replace\s+{REPLACE_REASON}\s+P009", out)  # the model's verdicts
    assert re.search(rf"2602\.00001\s+replace\s+{REPLACE_REASON}\s+2602\.00009", out)  # as applied
    assert re.search(rf"2602\.00009\s+keep\s+{ROUND2_REASON}", out) and KEEP_REASON in out
    assert "round 1: revise" in out and "round 2: accept" in out


def test_trace_shows_every_node_and_call(populated: Path) -> None:
    out = invoke("trace", RUN_A, "--max-chars", "12").output
    nodes = re.findall(r"^▶ (\w+)", out, flags=re.M)
    assert nodes[0] == "fetch_listing" and nodes[-1] == "remember_digest" and len(nodes) == 10
    assert "rejected, re-asked: background: too short" in out
    assert "(18 more characters)" in out  # "screener prompt triage 1/1" clipped to 12
    data = json.loads(invoke("trace", RUN_A, "--agent", "writer", "--json").stdout)
    assert {c["agent"] for c in data["calls"]} == {"writer"} and len(data["calls"]) == 3
    assert [n["node"] for n in data["nodes"]] == ["write_summary", "write_summary"]


@pytest.mark.parametrize("args", [["show", "NOPE"], ["trace", "NOPE"], ["show", "01K0A"]])
def test_unknown_or_ambiguous_id_is_one_line_with_status_2(populated: Path, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.output.startswith("ribao: error: ") and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_show_without_a_log_says_so(home: Path) -> None:
    result = invoke("show", "latest")
    assert result.exit_code == 2 and "no runs recorded yet" in result.output


def test_runs_read_the_home_of_the_checked_settings(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text("must_red = 3\n", encoding="utf-8")
    result = invoke("list")
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"ribao: error: {home / 'config.toml'}: unknown setting 'must_red' (did you mean 'must_read'?)"
    )
