"""Which reader profiles exist: the default one (the editorial stance), every [profiles.NAME], and the
bundled example reader the demo writes for."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ribao.errors import BadFlag

if TYPE_CHECKING:
    from ribao.settings import Settings

#: The profile of a run that names none: the editorial stance of the packaged prompts.
DEFAULT_PROFILE = "default"
#: The bundled reader `ribao demo` writes for (`ribao/data/profiles/example.toml`), unless config.toml
#: has its own `[profiles.example]`; known everywhere so the demo's memory and feedback can be looked into.
EXAMPLE_PROFILE = "example"


def profile_names(settings: Settings) -> list[str]:
    """Return the known profile names: `default` first, the configured ones in file order, then `example`."""
    return list(dict.fromkeys([DEFAULT_PROFILE, *settings.profiles, EXAMPLE_PROFILE]))


def check_profile(settings: Settings, name: str | None) -> str:
    """Return `name` (None: the default profile); raises `BadFlag` (exit 2) listing the known names."""
    if name is None:
        return DEFAULT_PROFILE
    known = profile_names(settings)
    if name not in known:
        near = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise BadFlag(f"unknown profile {name!r}{hint}; known: {', '.join(known)}")
    return name
