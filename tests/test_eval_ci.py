"""The pull-request job `ribao init github-actions --prompts-job` writes: when it runs, what it replays,
that its commands work on a recorded run, and that a regression fails it after the comment."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.eval_runs import store_references
from tests.support.http_run import configure_home, run_cli
from tests.support.prompt_judge import WORSE_SYSTEM, http_responder
from tests.support.stub_openai import StubOpenAI


def _write(root: Path) -> dict:
    done = CliRunner().invoke(app, ["init", "github-actions", "--prompts-job", "--root", str(root)])
    assert done.exit_code == 0, done.output
    assert "evals/home/" in done.output
    return yaml.safe_load((root / ".github/workflows/ribao-prompts.yml").read_text(encoding="utf-8"))


def _steps(workflow: dict) -> dict[str, dict]:
    return {s.get("name", s.get("uses", s.get("run", ""))): s for s in workflow["jobs"]["compare"]["steps"]}


def test_the_job_runs_on_pull_requests_touching_prompts_and_may_comment(tmp_path: Path) -> None:
    workflow = _write(tmp_path)
    assert workflow[True] == {"pull_request": {"paths": ["prompts/**"]}}  # YAML 1.1 reads `on` as True
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    steps = _steps(workflow)
    assert "pip install ." in steps  # ribao from the checkout, never by name from an index
    setup = steps["The recorded runs, and the base branch's prompts"]["run"]
    assert "cp -r evals/home/. .ribao-eval/" in setup and 'origin/${{ github.base_ref }}" prompts' in setup
    post = steps["Post the comparison"]
    assert post["uses"] == "actions/github-script@v7" and "createComment" in post["with"]["script"]
    assert post["if"] == "always() && steps.compare.outcome == 'success'"
    assert steps["Fail on regression"]["if"] == "steps.compare.outputs.status != '0'"
    # The scheduled workflow is another file, left alone.
    assert not (tmp_path / ".github/workflows/ribao.yml").exists()
    again = CliRunner().invoke(app, ["init", "github-actions", "--prompts-job", "--root", str(tmp_path)])
    assert again.exit_code == 1 and "exists (use --force" in again.output


@pytest.mark.parametrize(("compare_status", "recorded"), [(0, "0"), (6, "6"), (1, "1")])
def test_the_compare_step_records_the_status_for_the_last_step(
    tmp_path: Path, compare_status: int, recorded: str
) -> None:
    script = _steps(_write(tmp_path))["Compare"]["run"]
    out = tmp_path / "github_output"
    stub = f'ribao() {{ case "$*" in *--fail-on-regression*) return {compare_status};; esac; echo "{{}}"; }}'
    done = subprocess.run(
        ["bash", "-e", "-c", f"{stub}\n{script}"], cwd=tmp_path, env={"GITHUB_OUTPUT": str(out)}
    )
    assert done.returncode == 0  # the comment is posted before the job fails
    assert out.read_text().strip() == f"status={recorded}"


def test_the_jobs_commands_replay_the_recorded_runs_and_flag_a_worse_prompt(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = configure_home(tmp_path, openai_stub, monkeypatch)
    openai_stub.responder = http_responder
    assert run_cli("--quiet", "--no-fulltext").exit_code == 0
    store_references(home)
    repo = tmp_path / "repo"
    (repo / "prompts" / "screener").mkdir(parents=True)
    (repo / "prompts" / "screener" / "system.md.j2").write_text(WORSE_SYSTEM, encoding="utf-8")
    (repo / "_base" / "prompts").mkdir(parents=True)  # the base branch had no overrides
    steps = _steps(_write(repo))
    monkeypatch.chdir(repo)
    script = steps["Replay with both prompt sets"]["run"].splitlines()
    agents = shlex.split(script[0].split("=", 1)[1])[0]
    for line in script[1:]:
        args = shlex.split(line.replace("$agents", agents))
        assert args[0] == "ribao"
        done = CliRunner().invoke(app, args[1:], catch_exceptions=False)
        assert done.exit_code == 0, done.output
    compare = [a for a in steps["Compare"]["run"].splitlines() if a.startswith("ribao eval compare")]
    as_json = CliRunner().invoke(app, shlex.split(compare[0].split(">")[0])[1:])
    assert as_json.exit_code == 0, as_json.output
    assert "ndcg" in json.loads(as_json.output)["regressions"]
    failing = CliRunner().invoke(app, shlex.split(compare[1].split(">")[0])[1:])
    assert failing.exit_code == 6


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--agent", "screener"], "give either --runs ID… or --days D..D"),
        (["--agent", "screener", "--runs", "x", "--days", "2026-02-18"], "give either"),
        (["--agent", "screener", "--days", "2026-02-30"], "expected YYYY-MM-DD..YYYY-MM-DD"),
        (["--agent", "screener", "--runs", "x", "--judge", "nosuch"], "nosuch"),
        (["--agent", "judge", "--runs", "x"], "judge"),
        (["--agent", "screener", "--runs", "x", "--prompts-dir", "/nonexistent"], "no such folder"),
    ],
)
def test_bad_eval_run_flags_exit_2_in_one_line(args: list[str], said: str) -> None:
    done = CliRunner().invoke(app, ["eval", "run", *args])
    assert done.exit_code == 2, done.output
    assert said in done.output
