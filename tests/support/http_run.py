"""`ribao run` through the CLI against the OpenAI stub: a config for it, the scripted answers, secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.fakes import default_responder, valid_args
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI

SECRET = "sk-test-NEVER-WRITE-THIS-1234567890"
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100}


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """Answer any forced tool call with valid arguments (the scripted agents of tests/support/fakes)."""
    fn = body["tools"][0]["function"]
    args = default_responder(fn["name"], fn["parameters"], [])
    return {"tool": fn["name"], "args": args or valid_args(fn["parameters"]), "usage": USAGE}


def write_config(home: Path, base_url: str, limits: str = "") -> None:
    """Write `home`'s config.toml: the provider `stub` at `base_url`, with `limits` lines for its table."""
    (home / "config.toml").write_text(
        f"""
llm = "stub"
max_critic_rounds = 1
[providers.stub]
base_url = "{base_url}"
api_key_env = "STUB_API_KEY"
model = "stub-chat"
{limits}
[prices."stub-chat"]
input = 2.0
output = 8.0
currency = "CNY"
[memory]
embedder = "hash"
""",
        encoding="utf-8",
    )


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["run", "--source", str(sample_listing()), *args], catch_exceptions=False)


def configure_home(tmp_path: Path, stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make `tmp_path/home` the run's home: config for the stub provider, its key, scripted answers."""
    home = tmp_path / "home"
    home.mkdir()
    write_config(home, stub.base_url)
    monkeypatch.setenv("RIBAO_HOME", str(home))
    monkeypatch.setenv("STUB_API_KEY", SECRET)
    stub.responder = respond
    return home


def one_line_failure(
    tmp_path: Path, stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, env: str, url: str
) -> str:
    """Run with the setting `env` (a RIBAO_* variable) set to `url`; check the run failed (exit 1) in one
    line before any model call, and return that line."""
    configure_home(tmp_path, stub, monkeypatch)
    monkeypatch.setenv(env, url)
    result = run_cli("--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert stub.chat_requests == []
    return str(lines[0])
