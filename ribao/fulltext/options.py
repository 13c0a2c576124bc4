"""The `[fulltext]` settings section: `FulltextOptions`, defined beside the settings (settings_models)."""

from __future__ import annotations

from ribao.settings_models import DEFAULT_CONTEXT_TOKENS, FulltextOptions

__all__ = ["DEFAULT_CONTEXT_TOKENS", "FulltextOptions"]
