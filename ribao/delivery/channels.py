"""Push channels: secret expansion, timeouts and selection (the `[[push]]` model is in settings_models).

A channel's `url` is an Apprise URL (``schan://${SERVERCHAN_KEY}``, ``feishu://${FEISHU_TOKEN}``,
``mailtos://user:${SMTP_PASSWORD}@example.org``, ``json://127.0.0.1:8080/hook`` …). ``${NAME}``
names an environment variable read at send time; its value never reaches config, log or trace.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from ribao.errors import ConfigError
from ribao.settings_push import _VAR, ChannelSpec, PushChannel, select

__all__ = ["ChannelSpec", "PushChannel", "check_env", "expand", "select", "with_timeouts"]


def expand(url: str, environ: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Return `url` with each ``${VAR}`` replaced by its value, and the values (to mask later).

    Raises `ConfigError` naming the variable when one is unset or empty.
    """
    env = os.environ if environ is None else environ
    values: list[str] = []

    def sub(m: re.Match[str]) -> str:
        value = env.get(m.group(1), "")
        if not value:
            raise ConfigError(f"push URL {url!r} needs the environment variable {m.group(1)}")
        values.append(value)
        return value

    return _VAR.sub(sub, url), values


def with_timeouts(url: str, seconds: float, apprise_format: str) -> str:
    """Add Apprise's connect/read timeouts (``cto``/``rto``), ``overflow=upstream`` (ribao fits the
    body itself) and the body ``format`` to `url`, keeping any the user set."""
    query = urlsplit(url).query
    have = {kv.split("=", 1)[0].lower() for kv in query.split("&") if kv}
    extra = [
        f"{k}={v}"
        for k, v in (("cto", seconds), ("rto", seconds), ("overflow", "upstream"), ("format", apprise_format))
        if k not in have
    ]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def check_env(channels: list[PushChannel]) -> None:
    """Raise `ConfigError` when a channel's URL names an unset environment variable (before a run)."""
    for channel in channels:
        expand(channel.url)
