"""Shared fixtures: a private home and a clean environment for every test, and the OpenAI stub.

Every test runs with `RIBAO_HOME` set to its own empty temporary folder and with every `RIBAO_*`
variable, every `*_API_KEY` and `GITHUB_TOKEN` removed, so no test reads the developer's
config.toml, keys or overrides. `TEST_ENV` is set on top (one place for suite-wide defaults);
a test that needs a variable sets it with `monkeypatch.setenv`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.support.loopback",  # first: the other plugins import it, and pytest rewrites only what it imports
    "tests.support.stub_openai",
    "tests.support.arxiv",
    "tests.support.fulltext_server",
    "tests.support.servers",
    "tests.support.shared_home",
    "tests.support.hf_daily",
    "tests.support.browser",
]

#: Variables every test starts with, after the clean-up (suite-wide defaults go here).
# Full text off: tests are offline; the full-text tests serve arXiv's paths on loopback and turn it on.
TEST_ENV: dict[str, str] = {"RIBAO_FULLTEXT__ENABLED": "false"}


def _private(name: str) -> bool:
    return name.startswith("RIBAO_") or name.endswith("_API_KEY") or name == "GITHUB_TOKEN"


@pytest.fixture(autouse=True)
def ribao_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give the test its own empty RIBAO_HOME and an environment without RIBAO_* or API keys."""
    for name in [n for n in os.environ if _private(n)]:
        monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("ribao-home")
    monkeypatch.setenv("RIBAO_HOME", str(home))
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    return home
