"""Shared fixtures: the OpenAI-compatible stub server (tests/stub_openai.py); full text off by default."""

import pytest

pytest_plugins = ["tests.stub_openai", "tests.fulltext_server"]


@pytest.fixture(autouse=True)
def _no_fulltext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests are offline: only the full-text tests (which serve arXiv's paths on loopback) turn it on."""
    monkeypatch.setenv("RIBAO_FULLTEXT__ENABLED", "false")
