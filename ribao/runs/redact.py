"""Which settings and environment values are secrets: the run log's masked settings and the values to scrub.

The masking rule itself is `ribao.masking`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ribao.masking import MIN_SECRET_LENGTH, mask_keys

if TYPE_CHECKING:
    from ribao.llm.config import ModelConfig
    from ribao.settings import Settings

_SECRET_ENV = re.compile(r"(_API_KEY|_APIKEY|_TOKEN|_SECRET|_PASSWORD|_ACCESS_KEY)$")


def safe_settings(settings: Settings, models: Mapping[str, ModelConfig] | None = None) -> dict[str, Any]:
    """Return the effective settings as a JSON-able dict, secret-looking keys masked.

    Provider `api_key_env` names are kept (they name a variable, not a value). With `models`
    (agent -> resolved `ModelConfig`) a ``models`` entry says which model each agent used.
    """
    data: dict[str, Any] = settings.model_dump(mode="json")
    if models:
        data["models"] = {agent: cfg.model_dump(mode="json") for agent, cfg in models.items()}
    return mask_keys(data)  # type: ignore[no-any-return]


def secret_env_names(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> set[str]:
    """Return the env vars that may hold secrets: every provider's `api_key_env`, OPENAI_API_KEY,
    and any variable named ``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ``*_ACCESS_KEY``."""
    from ribao.settings_providers import PROVIDER_PRESETS

    environ = os.environ if environ is None else environ
    providers = [*PROVIDER_PRESETS.values(), *(settings.providers.values() if settings else [])]
    names = {p.api_key_env for p in providers if p.api_key_env} | {"OPENAI_API_KEY"}
    return names | {name for name in environ if _SECRET_ENV.search(name.upper())}


def known_secrets(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> set[str]:
    """Return the values (`MIN_SECRET_LENGTH` characters or more) of the `secret_env_names` variables."""
    environ = os.environ if environ is None else environ
    values = (environ.get(name, "").strip() for name in secret_env_names(settings, environ))
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}
