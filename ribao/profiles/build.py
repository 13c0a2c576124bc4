"""Resolve a `[profiles.NAME]` table into the profile relevance reads: keywords, seed and library papers."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ribao.profiles.keywords import cached_keywords, derive_keywords, needs_model, split_keywords
from ribao.profiles.library import read_library
from ribao.profiles.names import DEFAULT_PROFILE, EXAMPLE_PROFILE, check_profile
from ribao.profiles.resolve import ProfilePaper, ResolvedProfile
from ribao.profiles.seeds import SeedLookup, resolve_seeds
from ribao.settings_models import ProfileSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ribao.settings import Settings


@dataclass(frozen=True)
class Resolution:
    """A resolved profile and how it was found: where its keywords came from, the seeds not found."""

    profile: ResolvedProfile
    keywords_from: str  # "profile", "interests", "cache", "model" or "none"
    seeds: SeedLookup


def example_profile() -> ProfileSettings:
    """Return the bundled example reader (`ribao/data/profiles/example.toml`) the demo writes for."""
    text = (resources.files("ribao") / "data" / "profiles" / "example.toml").read_text(encoding="utf-8")
    return ProfileSettings(**tomllib.loads(text))


def with_example(settings: Settings, out_dir: Path) -> Settings:
    """Return `settings` with the example profile (unless config.toml has its own `[profiles.example]`),
    writing to `out_dir` itself rather than a subfolder."""
    mine = settings.profiles.get(EXAMPLE_PROFILE) or example_profile()
    if mine.out_dir is None:
        mine = mine.model_copy(update={"out_dir": str(out_dir)})
    return settings.model_copy(update={"profiles": {**settings.profiles, EXAMPLE_PROFILE: mine}})


def profile_settings(settings: Settings, name: str) -> ProfileSettings:
    """Return `[profiles.NAME]` (the default profile: no interests, today's editorial stance; `example`
    unless configured: the bundled reader); raises `BadFlag` (exit 2) listing the known names
    (`ribao.profiles.names.check_profile`)."""
    check_profile(settings, name)
    if name == DEFAULT_PROFILE:
        return ProfileSettings()
    if name in settings.profiles:
        return settings.profiles[name]
    return example_profile()


def library_path(settings: Settings, library: str) -> Path:
    """Return the library file's path; a relative path is relative to the home folder (beside config.toml)."""
    path = Path(library).expanduser()
    return path if path.is_absolute() else settings.home / path


def resolve_profile(
    settings: Settings,
    name: str,
    *,
    model: BaseChatModel | None = None,
    liked: Sequence[ProfilePaper] = (),
    disliked: Sequence[ProfilePaper] = (),
) -> Resolution:
    """Resolve profile `name`: keywords (the profile's, else English interests as written, else the cache,
    else derived once by `model`), seed papers, library papers; `liked`/`disliked` come from feedback.

    Raises `BadFlag` (unknown name), `LibraryError` (missing or malformed library), and what the keyword call
    raises when the keywords must be derived.
    """
    p = profile_settings(settings, name)
    interests = p.interests.strip()
    if p.keywords:
        keywords, source = list(p.keywords), "profile"
    elif not interests:
        keywords, source = [], "none"
    elif not needs_model(interests):
        keywords, source = split_keywords(interests), "interests"
    elif (hit := cached_keywords(settings.home, interests)) is not None:
        keywords, source = hit, "cache"
    elif model is not None:
        keywords, _ = asyncio.run(
            derive_keywords(interests, settings.home, model, retries=settings.structured_retries)
        )
        source = "model"
    else:
        keywords, source = [], "none"
    seeds = (
        resolve_seeds(p.seed_papers, home=settings.home, api=settings.arxiv)
        if p.seed_papers
        else SeedLookup()
    )
    library = read_library(library_path(settings, p.library)) if p.library else []
    profile = ResolvedProfile(
        name, p, keywords, seeds.papers, library, liked=list(liked), disliked=list(disliked)
    )
    return Resolution(profile, source, seeds)


def for_profile(settings: Settings, name: str) -> Settings:
    """Return the run's settings with profile `name`'s own picks, categories and output folder
    (default `<out_dir>/<name>`); the default profile changes nothing."""
    p = profile_settings(settings, name)
    if name == DEFAULT_PROFILE:
        return settings
    update: dict[str, object] = {
        "out_dir": Path(p.out_dir).expanduser() if p.out_dir else settings.out_dir / name
    }
    if p.must_read is not None:
        update["must_read"] = p.must_read
    if p.notable is not None:
        update["notable"] = p.notable
    if p.categories:
        update["categories"] = list(p.categories)
    return settings.model_copy(update=update)
