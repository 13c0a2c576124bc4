"""Where each effective setting comes from: a flag, an env var (RIBAO_X), config.toml, or the default."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic_settings import (
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    TomlConfigSettingsSource,
)

from ribao.errors import ConfigError
from ribao.masking import mask_value
from ribao.settings import Settings, load_settings

Origin = Literal["flag", "env", "file", "default"]
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class SettingOrigin:
    """One effective setting: dotted `key`, JSON-ready `value` (secrets masked), and where it came from.

    `detail` is the env var name for ``env`` and the file path for ``file``, else None.
    """

    key: str
    value: Any
    origin: Origin
    detail: str | None = None

    @property
    def label(self) -> str:
        """Return the origin as people read it: ``env (RIBAO_X)``, ``file (/path)``, ``flag``, ``default``."""
        return f"{self.origin} ({self.detail})" if self.detail else self.origin


def _sources(init: dict[str, Any]) -> list[tuple[Origin, PydanticBaseSettingsSource]]:
    """Return the sources `Settings` reads, highest precedence first, each with its origin."""
    chosen = Settings.settings_customise_sources(
        Settings,
        init_settings=InitSettingsSource(Settings, init_kwargs=init),
        env_settings=EnvSettingsSource(Settings),
        dotenv_settings=DotEnvSettingsSource(Settings),
        file_secret_settings=SecretsSettingsSource(Settings),
    )
    out: list[tuple[Origin, PydanticBaseSettingsSource]] = []
    for source in chosen:
        # Config-file sources subclass InitSettingsSource, so only the exact class means flags.
        if type(source) is InitSettingsSource:
            out.append(("flag", source))
        elif isinstance(source, EnvSettingsSource):
            out.append(("env", source))
        else:
            out.append(("file", source))
    return out


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield (path, value) for every leaf of a JSON dump; an empty table is a leaf of its own."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from _leaves(v, (*path, str(k)))
    else:
        yield path, value


def _sets(raw: Any, path: tuple[str, ...]) -> bool:
    """Return whether a source's raw values set `path` (or a whole value above it)."""
    for part in path:
        if not isinstance(raw, dict):
            return True
        if part not in raw:
            return False
        raw = raw[part]
    return True


def _env_name(path: tuple[str, ...]) -> str | None:
    """Return the RIBAO_* variable that set `path`: the nested name, else the nearest JSON parent."""
    present = {name.upper(): name for name in os.environ}
    for end in range(len(path), 0, -1):
        name = "RIBAO_" + "__".join(path[:end]).upper()
        if name in present:
            return present[name]
    return None


def dotted(path: tuple[str, ...]) -> str:
    """Join a key path with dots, quoting parts that are not bare TOML keys (``prices."qwen2.5".input``)."""
    return ".".join(p if _BARE_KEY.match(p) else f'"{p}"' for p in path)


def explain_settings(flags: Mapping[str, Any]) -> list[SettingOrigin]:
    """Return every effective setting with its origin, in field order; flags are `Settings` kwargs.

    Precedence is `Settings.settings_customise_sources`: flag > env > config.toml > default.
    Raises `ConfigError` when the settings are invalid.
    """
    init = {k: v for k, v in flags.items() if v is not None}
    settings = load_settings(**init)
    try:
        sources = [(origin, source, source()) for origin, source in _sources(init)]
    except ValueError as exc:
        raise ConfigError(f"cannot read a settings source: {exc}") from exc
    result = []
    for path, value in _leaves(settings.model_dump(mode="json")):
        origin: Origin = "default"
        detail = None
        for name, source, raw in sources:
            if _sets(raw, path):
                origin = name
                if name == "env":
                    detail = _env_name(path)
                elif isinstance(source, TomlConfigSettingsSource):
                    detail = str(source.toml_file_path)
                break
        result.append(
            SettingOrigin(dotted(path), mask_value(path[-1] if path else None, value), origin, detail)
        )
    return result
