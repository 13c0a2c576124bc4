"""How one agent reaches its chat model: `ModelConfig`, defined beside the settings (settings_models)."""

from __future__ import annotations

from ribao.settings_providers import ModelConfig

__all__ = ["ModelConfig"]
