"""`ribao run` delivers: a JSON webhook and an email channel configured, the HTML page beside the Markdown;
a failed channel gives exit status 5 with the digest written; a malformed URL stops before any LLM call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.graph import FIRST40
from tests.support.http_run import respond
from tests.support.loopback import Mailbox, Webhook, parts
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI

HOOK_SECRET = "hooksecret-ABCDEF-0123456789"


def configure(home: Path, stub: StubOpenAI, push: str) -> None:
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(
        f"""
llm = "stub"
max_critic_rounds = 1
site_url = "https://reader.github.io/ribao"
[providers.stub]
base_url = "{stub.base_url}"
api_key_env = "STUB_API_KEY"
model = "stub-chat"
[memory]
embedder = "hash"
[delivery]
retries = 1
backoff_seconds = 0
timeout_seconds = 2
{push}
""",
        encoding="utf-8",
    )


@pytest.fixture
def home(tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUB_API_KEY", "sk-test-stub-0123456789abcdef")
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    openai_stub.responder = respond
    return tmp_path / "home"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_one_run_delivers_to_a_webhook_and_by_email(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI, webhook: Webhook, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    configure(home, openai_stub, f"""
[[push]]
name = "hook"
url = "json://127.0.0.1:{webhook.port}/${{HOOK_SECRET}}"
[[push]]
name = "mail"
url = "mailto://127.0.0.1:{port}?from=ribao@example.org&to=reader@example.org"
""")  # fmt: skip
    out = tmp_path / "out"
    result = cli("run", "--source", str(sample_listing()), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    md = (out / "2026-02-18.md").read_text(encoding="utf-8")
    html = (out / "2026-02-18.html").read_text(encoding="utf-8")
    assert html.count('<article class="entry"') == 13

    [req] = webhook.requests
    assert req["path"].startswith(f"/{HOOK_SECRET}")
    assert json.loads(req["body"])["message"] == md.strip()
    [msg] = box.messages
    got = parts(msg)
    assert got["text/html"].replace("\r\n", "\n") == html and "今日必读" in got["text/plain"]

    shown = cli("runs", "show", "latest", "--json")
    deliveries = json.loads(shown.output)["deliveries"]
    assert [(d["channel"], d["status"], d["format"]) for d in deliveries] == [
        ("hook", "ok", "markdown"),
        ("mail", "ok", "html"),
    ]
    assert deliveries[0]["bytes"] == len(md.strip().encode())
    log = (home / "runs.sqlite").read_bytes()
    assert HOOK_SECRET.encode() not in log  # the URL template is recorded, never its value

    # `ribao push DATE --to hook` sends the written digest again and records it under the same run;
    # it finds the digest through the run log although the run wrote it to --out, not to out_dir.
    again = cli("push", "2026-02-18", "--to", "hook")
    assert again.exit_code == 0, again.output
    assert len(webhook.requests) == 2
    assert json.loads(webhook.requests[1]["body"])["message"] == md.strip()
    assert len(json.loads(cli("runs", "show", "latest", "--json").output)["deliveries"]) == 3
    built = cli("site", "build", "--out", str(tmp_path / "site"))  # the same for the archive site
    assert built.exit_code == 0 and "1 day(s)" in built.output, built.output
    assert (tmp_path / "site" / "2026-02-18.html").is_file()


def test_a_failed_channel_is_exit_5_with_the_digest_written(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI, webhook: Webhook
) -> None:
    webhook.mode = "fail"
    configure(home, openai_stub, f'[[push]]\nname = "team"\nurl = "json://127.0.0.1:{webhook.port}/x"\n')
    out = tmp_path / "out"
    source = str(FIRST40)  # what a failed channel does is the same on a smaller day
    result = cli("run", "--source", source, "--out", str(out), "--quiet")
    assert result.exit_code == 5
    assert (out / "2026-02-19.md").exists() and (out / "2026-02-19.html").exists()
    failed = [line for line in result.output.splitlines() if line.startswith("ribao: push failed:")]
    assert len(failed) == 1 and failed[0].startswith("ribao: push failed: team:")
    assert len(webhook.requests) == 2  # one retry
    skipped = cli("run", "--source", source, "--out", str(out), "--quiet", "--no-push")
    assert skipped.exit_code == 0 and len(webhook.requests) == 2


def test_a_malformed_push_url_is_a_config_error_before_any_llm_call(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI
) -> None:
    configure(home, openai_stub, '[[push]]\nname = "wechat"\nurl = "schan:/${SERVERCHAN_KEY}"\n')
    result = cli("run", "--source", str(sample_listing()), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "push" in result.output and "schan:/" in result.output
    assert openai_stub.chat_requests == []


def test_an_unset_secret_variable_stops_the_run_before_any_llm_call(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI
) -> None:
    configure(home, openai_stub, '[[push]]\nname = "wechat"\nurl = "schan://${SERVERCHAN_KEY}"\n')
    result = cli("run", "--source", str(sample_listing()), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "SERVERCHAN_KEY" in result.output
    assert openai_stub.chat_requests == []
