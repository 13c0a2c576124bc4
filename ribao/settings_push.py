"""The ``[[push]]`` channel model: an Apprise URL per channel, what each scheme accepts, choosing channels.

It lives beside `Settings` (services layer, no I/O on import: Apprise loads only to check a URL) so that
loading the settings loads no delivery code; `ribao.delivery` imports it from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from ribao.errors import ConfigError

Format = Literal["markdown", "card", "text", "html"]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class ChannelSpec:
    """What a scheme accepts: the default rendering, a size limit (`unit` bytes of UTF-8 or chars),
    whether an over-long full digest is split into several messages (else shortened), and the
    Apprise body format sent."""

    format: Format
    limit: int | None
    unit: Literal["bytes", "chars"] = "bytes"
    split: bool = False
    apprise_format: Literal["markdown", "text", "html"] = "markdown"


# Limits from the services' documentation and Apprise's own `body_maxlen` (whichever is smaller).
SPECS: dict[str, ChannelSpec] = {
    "schan": ChannelSpec("markdown", 32_000, split=True),  # ServerChan: desp up to 32 KB
    "wxpusher": ChannelSpec("markdown", 40_000, unit="chars", split=True),
    "pushplus": ChannelSpec("markdown", 20_000, unit="chars", split=True),
    "wecombot": ChannelSpec("text", 2_048, apprise_format="text"),  # Apprise sends WeCom text messages
    "feishu": ChannelSpec("card", 18_000),  # Feishu webhook bodies are capped at 20 KB
    "lark": ChannelSpec("card", 18_000),
    "dingtalk": ChannelSpec("card", 19_000),  # DingTalk: 20,000 bytes per message
    "slack": ChannelSpec("card", 35_000, unit="chars"),
    "tgram": ChannelSpec("card", 4_096, unit="chars"),
    "discord": ChannelSpec("card", 2_000, unit="chars"),
    "mailto": ChannelSpec("html", None, apprise_format="html"),
    "mailtos": ChannelSpec("html", None, apprise_format="html"),
}
DEFAULT_SPEC = ChannelSpec("markdown", None)


class PushChannel(BaseModel):
    """One ``[[push]]`` table: a name, an Apprise URL (``${VAR}`` for secrets), an optional format."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, description="How --push/--to and the run log name this channel")
    url: str = Field(description="Apprise URL; ${VAR} is replaced by that env var at send time")
    format: Format | None = Field(
        default=None, description="markdown, card, text or html [default: per scheme]"
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        check_url(url)
        return url

    @model_validator(mode="after")
    def _html_only_email(self) -> PushChannel:
        if self.format == "html" and self.scheme not in ("mailto", "mailtos", "json", "form"):
            raise ValueError(f"push {self.name!r}: format html is for email and webhooks only")
        return self

    @property
    def scheme(self) -> str:
        """Return the URL's scheme, lower case (``schan``, ``mailto`` …)."""
        return self.url.split("://", 1)[0].lower()

    @property
    def spec(self) -> ChannelSpec:
        """Return what this channel's scheme accepts, with `format` overriding the rendering."""
        spec = SPECS.get(self.scheme, DEFAULT_SPEC)
        if self.format and self.format != spec.format:
            body: Literal["markdown", "text", "html"] = (
                "text" if self.format == "text" else "html" if self.format == "html" else "markdown"
            )
            return ChannelSpec(self.format, spec.limit, spec.unit, spec.split, body)
        return spec


def check_url(url: str) -> None:
    """Raise `ValueError` unless `url` is an Apprise URL of a known scheme (placeholders filled in)."""
    import apprise

    if "://" not in url:
        raise ValueError(f"not an Apprise URL (expected scheme://…): {url!r}")
    filled = _VAR.sub(_PLACEHOLDER, url)
    if "$" in filled:
        raise ValueError(f"malformed variable in {url!r}: write ${{NAME}}")
    if apprise.Apprise.instantiate(filled) is None:
        raise ValueError(f"Apprise does not accept {url!r} (unknown scheme or malformed URL)")


def select(channels: list[PushChannel], names: list[str] | None) -> list[PushChannel]:
    """Return the channels named in `names` (all when None), each once; raises `ConfigError` for an
    unknown name."""
    if not names:
        return list(channels)
    known = {c.name: c for c in channels}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown push channel {', '.join(unknown)}; configured: {', '.join(known) or 'none'}"
        )
    return [known[n] for n in dict.fromkeys(names)]  # `--to a --to a` sends once
