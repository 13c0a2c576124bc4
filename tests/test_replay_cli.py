"""`ribao replay --agent writer` with an edited prompt: both outputs shown, nothing of the run changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.runs.db import RunLog
from tests.support.http_run import respond
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI


def digest_of(folder: Path) -> str:
    return hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
    ).hexdigest()


def test_replay_writer_with_an_edited_prompt(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'llm = "stub"\nmax_critic_rounds = 1\n[providers.stub]\nbase_url = "{openai_stub.base_url}"\n'
        'api_key_env = "STUB_API_KEY"\nmodel = "stub-chat"\n[memory]\nembedder = "hash"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("RIBAO_HOME", str(home))
    monkeypatch.setenv("STUB_API_KEY", "sk-stub-key-0123456789")
    openai_stub.responder = respond
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(app, ["run", "--source", str(sample_listing()), "--out", str(out), "--quiet"])
    assert first.exit_code == 0, first.output
    outputs, memory = digest_of(out), digest_of(home / "memory")

    edited = tmp_path / "edited"
    (edited / "writer").mkdir(parents=True)
    (edited / "writer" / "notable.md.j2").write_text("用一句话介绍：{{ paper.title }}\n", encoding="utf-8")
    seen = len(openai_stub.chat_requests)
    openai_stub.responder = lambda body: (
        {**respond(body), "args": {"one_line": "新的提示词写出的一句话"}}
        if (body["tools"][0]["function"]["name"] == "NotableOutput")
        else respond(body)
    )
    result = runner.invoke(app, ["replay", "latest", "--agent", "writer", "--prompts-dir", str(edited)])
    assert result.exit_code == 0, result.output
    assert "新的提示词写出的一句话" in result.output and "+one_line" in result.output
    assert "recorded: 13 call(s)" in result.output and "replay:   13 call(s)" in result.output
    prompts = [r.body["messages"][-1]["content"] for r in openai_stub.chat_requests[seen:] if r.body]
    assert sum(p.startswith("用一句话介绍：") for p in prompts) == 10

    assert digest_of(out) == outputs and digest_of(home / "memory") == memory
    with RunLog.open(home) as log:
        runs = log.list_runs()
    assert [r.status for r in runs] == ["replay", "done"]
    assert runs[0].settings["replay_of"] == runs[1].run_id
    header = f"replay of writer in run {runs[1].run_id} (recorded as {runs[0].run_id})"
    assert header in result.output.splitlines()  # one line, not wrapped inside a run id at 80 columns


@pytest.mark.parametrize("command", [["replay", "latest"], ["runs", "trace", "latest"]])
def test_an_unknown_agent_exits_2_naming_the_registry_agents(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--agent", "nosuch"])
    assert result.exit_code == 2
    assert "'nosuch' is not one of 'screener', 'critic', 'writer', 'editor'" in result.output
