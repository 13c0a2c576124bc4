"""A profile with everything it refers to read in: keywords, seed and library papers, feedback."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from ribao.profiles.names import DEFAULT_PROFILE
from ribao.settings_models import ProfileSettings


class ProfilePaper(NamedTuple):
    """A paper a profile points at (seed, library item, liked or disliked); `date` is when it was
    added or rated (a year-only library item gets 1 January), None when unknown."""

    arxiv_id: str | None
    title: str
    abstract: str
    date: dt.date | None = None


@dataclass(frozen=True)
class ResolvedProfile:
    """One reader, resolved: the settings plus the English keywords, papers and feedback relevance uses.

    `keywords` are the interests in English (the settings' own, else derived once by the model);
    `liked` and `disliked` come from the feedback store (`ribao.profiles.feedback`).
    """

    name: str
    settings: ProfileSettings
    keywords: list[str] = field(default_factory=list)
    seeds: list[ProfilePaper] = field(default_factory=list)
    library: list[ProfilePaper] = field(default_factory=list)
    liked: list[ProfilePaper] = field(default_factory=list)
    disliked: list[ProfilePaper] = field(default_factory=list)

    @property
    def has_signals(self) -> bool:
        """Whether anything here can rank papers; the default profile (today's stance) has none."""
        s = self.settings
        return bool(
            self.keywords
            or s.interests.strip()
            or self.seeds
            or self.library
            or self.liked
            or s.authors
            or s.avoid
        )


def default_profile() -> ResolvedProfile:
    """Return the profile of a run without `--profile`: today's editorial stance, no relevance."""
    return ResolvedProfile(DEFAULT_PROFILE, ProfileSettings())
