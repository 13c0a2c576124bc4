"""Reader profiles as use cases: the profile a run writes for, `ribao profile list` and `show`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ribao.memory.embedders import make_embedder
from ribao.memory.vectors import DayVectors
from ribao.profiles.build import Resolution, profile_settings, resolve_profile
from ribao.profiles.run import RunProfile

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ribao.settings import Settings


def run_profile(settings: Settings, name: str, model: BaseChatModel | None) -> RunProfile:
    """Return the reader run `name` writes for, resolved (`model` derives Chinese interests' keywords
    once), with the shipped MiniLM embedder and the day vector cache the memory's recall fills."""
    resolution = resolve_profile(settings, name, model=model)
    embedder = make_embedder("minilm")
    vectors = DayVectors(settings.home / "cache" / "embeddings", embedder.name)
    return RunProfile(resolution.profile, embedder, vectors)


@dataclass(frozen=True)
class ProfileLine:
    """One row of `ribao profile list`."""

    name: str
    interests: str
    seeds: int
    library: str | None


def list_profiles(settings: Settings) -> list[ProfileLine]:
    """Return the configured profiles, by name (reads no file and calls no model)."""
    return [
        ProfileLine(name, p.interests.strip(), len(p.seed_papers), p.library)
        for name, p in sorted(settings.profiles.items())
    ]


def show_profile(settings: Settings, name: str, model: BaseChatModel | None = None) -> Resolution:
    """Return what profile `name` resolves to: keywords, seed and library papers (raises `UnknownProfile`,
    `LibraryError`); keywords of Chinese interests are derived with `model` when not cached yet."""
    profile_settings(settings, name)
    return resolve_profile(settings, name, model=model)
