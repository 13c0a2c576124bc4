"""`ribao demo` sizes the run for its small model unless the user's config says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ribao.commands.demo import DEMO_DEFAULTS, demo_settings
from ribao.settings import Settings


@pytest.fixture(autouse=True)
def _fulltext_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIBAO_FULLTEXT__ENABLED", raising=False)  # the suite's default (conftest)


def test_the_demo_uses_its_small_model_defaults(ribao_home: Path) -> None:
    settings = demo_settings(llm="local")
    assert settings.triage_abstract_words == DEMO_DEFAULTS["triage_abstract_words"] == 12
    assert settings.screener_abstract_words == DEMO_DEFAULTS["screener_abstract_words"] == 30
    assert settings.max_critic_rounds == DEMO_DEFAULTS["max_critic_rounds"] == 1
    assert settings.fulltext.enabled is False  # offline: no waiting on arXiv for the must-reads
    assert settings.delivery.enabled is False  # offline: no push, whatever config.toml names
    # …which differ from what `ribao run` uses.
    assert Settings.model_fields["triage_abstract_words"].default != settings.triage_abstract_words
    assert Settings.model_fields["screener_abstract_words"].default != settings.screener_abstract_words
    assert Settings.model_fields["max_critic_rounds"].default != settings.max_critic_rounds


def test_config_and_env_win_over_the_demo_defaults(ribao_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (ribao_home / "config.toml").write_text(
        "max_critic_rounds = 2\n[fulltext]\ntimeout_seconds = 5\n", encoding="utf-8"
    )
    monkeypatch.setenv("RIBAO_TRIAGE_ABSTRACT_WORDS", "33")
    settings = demo_settings(llm="local")
    assert (settings.max_critic_rounds, settings.triage_abstract_words) == (2, 33)
    assert settings.fulltext.enabled and settings.fulltext.timeout_seconds == 5
