"""The one secret-masking rule: mask secret-looking settings and scrub key values from any text.

The run log, `ribao config show` and push error reasons all use it; which environment variables
hold secrets is `ribao.runs.redact`'s business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 8  # shorter values ("EMPTY", "x") are placeholders; masking them would mangle text

# A key whose name ends like this holds a secret (``key`` only as a whole word: ``api_key``,
# ``ssh_key``); `api_key_env` (a variable's NAME) and `max_tokens` (a count) do not match.
_SECRET_KEY = re.compile(
    r"(api_?key|access_?key|secret_?key|private_?key|(?:^|_)key|token|password|passwd|secret|authorization|"
    r"cookie|credentials?)$"
)
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


def scrub(text: str, secrets: Iterable[str] = (), *, min_length: int = MIN_SECRET_LENGTH) -> str:
    """Replace each of `secrets` (`min_length` characters or more) in `text`, and anything that looks
    like a credential, by `MASK`.

    Credential-looking: ``Bearer …``/``Basic …`` tokens, ``sk-…``/``pk-…``/``rk-…`` keys,
    ``api-key: …`` headers, the password of ``user:password@`` in URLs and ``?key=…``/``token=…``
    query parameters.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= min_length:
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
