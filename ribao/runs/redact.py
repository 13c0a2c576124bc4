"""The one secret-masking rule: mask secret-looking settings and scrub key values from any text.

The run log (`safe_settings`, `scrub_value`) and `ribao config show` (`mask_value`) both use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ribao.llm.config import ModelConfig
    from ribao.settings import Settings

MASK = "***"
MIN_SECRET_LENGTH = 8  # shorter values ("EMPTY", "x") are placeholders; masking them would mangle text

# A key whose name ends like this holds a secret (``key`` only as a whole word: ``api_key``,
# ``ssh_key``); `api_key_env` (a variable's NAME) and `max_tokens` (a count) do not match.
_SECRET_KEY = re.compile(
    r"(api_?key|access_?key|secret_?key|private_?key|(?:^|_)key|token|password|passwd|secret|authorization|"
    r"cookie|credentials?)$"
)
_SECRET_ENV = re.compile(r"(_API_KEY|_APIKEY|_TOKEN|_SECRET|_PASSWORD|_ACCESS_KEY)$")
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    (re.compile(r"(?<![A-Za-z0-9_-])(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}"), MASK),
    (re.compile(r"(?i)\b((?:x-)?api[-_]?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@"), rf"\1{MASK}@"),
    (re.compile(r"(?i)([?&](?:api[-_]?key|key|token|access_token)=)[^&\s\"']+"), rf"\1{MASK}"),
]


def is_secret_key(key: str) -> bool:
    """Return True when a settings key names a secret value (api_key, token, password, ...)."""
    return bool(_SECRET_KEY.search(key.lower().replace("-", "_")))


def mask_value(key: str | None, value: Any) -> Any:
    """Return one setting's value as shown: `MASK` when `key` names a secret and the value is set,
    a string `scrub`bed (``sk-…`` keys, ``user:password@`` in URLs, …), anything else as is."""
    if key is not None and is_secret_key(key) and value not in (None, ""):
        return MASK
    return scrub(value) if isinstance(value, str) else value


def mask_keys(value: Any) -> Any:
    """Return a copy of a JSON-able value with every secret-looking key's value replaced by `MASK`."""
    if isinstance(value, Mapping):
        return {k: MASK if is_secret_key(str(k)) and v else mask_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_keys(v) for v in value]
    return value


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
    from ribao.settings import PROVIDER_PRESETS

    environ = os.environ if environ is None else environ
    providers = [*PROVIDER_PRESETS.values(), *(settings.providers.values() if settings else [])]
    names = {p.api_key_env for p in providers if p.api_key_env} | {"OPENAI_API_KEY"}
    return names | {name for name in environ if _SECRET_ENV.search(name.upper())}


def known_secrets(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> set[str]:
    """Return the values (`MIN_SECRET_LENGTH` characters or more) of the `secret_env_names` variables."""
    environ = os.environ if environ is None else environ
    values = (environ.get(name, "").strip() for name in secret_env_names(settings, environ))
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace each of `secrets` in `text`, and anything that looks like a credential, by `MASK`.

    Credential-looking: ``Bearer …``/``Basic …`` tokens, ``sk-…``/``pk-…``/``rk-…`` keys,
    ``api-key: …`` headers, the password of ``user:password@`` in URLs and ``?key=…``/``token=…``
    query parameters.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def scrub_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Return a JSON-able value with `scrub` applied to every string in it (keys included)."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, Mapping):
        return {scrub(str(k), secrets): scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v, secrets) for v in value]
    return value
