"""Secrets never reach the run log: masked settings, scrubbed messages, replies, errors and node data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ribao.masking import MASK, mask_keys
from ribao.runs import RunLog, safe_settings, scrub
from ribao.runs.redact import known_secrets, secret_env_names
from ribao.settings import Settings
from ribao.settings_providers import AgentSettings, ProviderSettings
from tests.support.runs import call

DEEPSEEK_KEY = "sk-deepseekFAKE0123456789abcdef"
CUSTOM_KEY = "custom-provider-secret-42"  # no sk- shape: only known through its env var
GITHUB_TOKEN = "ghp_FAKEtoken0123456789"
BEARER = "eyJhbGciOiJIUzI1NiJ9.fake.signature"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", DEEPSEEK_KEY)
    monkeypatch.setenv("MY_GATEWAY_KEY", CUSTOM_KEY)  # named by a [providers] entry, not by its shape
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("SHORT_TOKEN", "x")  # too short to be a secret: left alone


def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        llm="gw",
        providers={
            "gw": ProviderSettings(base_url="https://gw.example/v1", api_key_env="MY_GATEWAY_KEY", model="m")
        },
        agents={"writer": AgentSettings(max_tokens=900)},
    )


def test_safe_settings_keeps_env_names_and_masks_secret_keys(tmp_path: Path) -> None:
    data = safe_settings(settings(tmp_path))
    assert data["providers"]["gw"]["api_key_env"] == "MY_GATEWAY_KEY"
    assert data["agents"]["writer"]["max_tokens"] == 900 and data["local"]["max_tokens"] == 3072
    assert data["home"] == str(tmp_path) and data["categories"] == ["cs.CL", "cs.AI", "cs.LG"]
    nested = {
        "a": {
            "api_key": "v",
            "Authorization": "Bearer x",
            "client_secret": "s",
            "token": "t",
            "password": "p",
            "api_key_env": "OPENAI_API_KEY",
            "max_tokens": 5,
            "empty_token": None,
        }
    }
    masked = mask_keys(nested)["a"]
    assert masked == {
        "api_key": MASK,
        "Authorization": MASK,
        "client_secret": MASK,
        "token": MASK,
        "password": MASK,
        "api_key_env": "OPENAI_API_KEY",
        "max_tokens": 5,
        "empty_token": None,
    }


def test_secret_env_vars_are_found_by_provider_and_by_name(env: None, tmp_path: Path) -> None:
    names = secret_env_names(settings(tmp_path))
    assert {"DEEPSEEK_API_KEY", "MY_GATEWAY_KEY", "GITHUB_TOKEN", "OPENAI_API_KEY", "ARK_API_KEY"} <= names
    values = known_secrets(settings(tmp_path))
    assert {DEEPSEEK_KEY, CUSTOM_KEY, GITHUB_TOKEN} <= values and "x" not in values
    assert CUSTOM_KEY not in known_secrets()  # only a provider entry names MY_GATEWAY_KEY


def test_scrub_masks_credentials_and_leaves_prose_alone() -> None:
    assert scrub(f"key {DEEPSEEK_KEY}!", []) == "key ***!"
    assert scrub(f"Authorization: Bearer {BEARER}") == "Authorization: Bearer ***"
    assert scrub("https://user:hunter22@proxy.example/v1?api_key=abc123&x=1") == (
        "https://user:***@proxy.example/v1?api_key=***&x=1"
    )
    assert scrub('{"api-key": "abcdefgh12345"}') == '{"api-key": "***"}'
    assert scrub(f"prefix{CUSTOM_KEY}suffix", [CUSTOM_KEY, "short"]) == "prefix***suffix"
    prose = (
        "A risk-sensitive, task-specific max_tokens=2048 sketch; api_key_env = OPENAI_API_KEY; 准确率 98.7%"
    )
    assert scrub(prose, ["short"]) == prose


def test_no_secret_reaches_the_database_file(env: None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    leaky = (
        f"calling with {DEEPSEEK_KEY} and Authorization: Bearer {BEARER} via {CUSTOM_KEY} ({GITHUB_TOKEN})"
    )
    with RunLog.open(home) as log:
        log.start_run("r1", settings=settings(tmp_path), date=dt.date(2026, 2, 18), categories=["cs.CL"])
        log.start_run(
            "r2",
            settings={"llm": "x", "headers": {"Authorization": f"Bearer {BEARER}"}, "note": leaky},
            categories=[],
        )
        bad = call(
            "writer",
            f"task {GITHUB_TOKEN}",
            10,
            2,
            parsed={"text": leaky},
            error=f"401 for {leaky}",
            messages=[{"role": "system", "content": leaky}, {"role": "human", "content": "hi"}],
        )
        bad = bad.model_copy(update={"raw": leaky})
        log.record_calls("r1", "write_summary", [bad], task_id="t1")
        now = dt.datetime.now(dt.UTC)
        log.record_node(
            "r1",
            node="write_summary",
            task_id="t1",
            started_at=now,
            finished_at=now,
            inputs={"prompt": leaky},
            outputs={"reply": leaky},
            error=leaky,
            summary=leaky,
        )
        log.finish_run("r1", status="failed", error=leaky, picks=[{"reason": leaky}], critiques=[])
        stored = log.calls("r1")[0]
        assert "***" in stored.raw and stored.messages[0]["content"].count("***") == 4
    files = list(home.iterdir())
    assert any(f.name == "runs.sqlite" for f in files)
    blob = b"".join(f.read_bytes() for f in files if f.is_file())
    for secret in (DEEPSEEK_KEY, CUSTOM_KEY, GITHUB_TOKEN, BEARER):
        assert secret.encode() not in blob, secret
    assert b"MY_GATEWAY_KEY" in blob  # the variable's name is kept, for `runs show`
