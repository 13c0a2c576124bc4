"""Reader profiles as use cases: the profile a run writes for, `ribao profile list` and `show`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ribao.app.feedback import any_feedback, open_feedback
from ribao.memory.embedders import make_embedder
from ribao.memory.vectors import DayVectors
from ribao.profiles.build import Resolution, profile_settings, resolve_profile
from ribao.profiles.feedback import FeedbackPaper
from ribao.profiles.resolve import ProfilePaper
from ribao.profiles.run import RunProfile
from ribao.profiles.seeds import resolve_seeds

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ribao.settings import Settings


def feedback_papers(settings: Settings, name: str) -> tuple[list[ProfilePaper], list[ProfilePaper]]:
    """Return the papers profile `name` currently likes and dislikes (not interested counts as dislike),
    with their text; a paper given by id alone is looked up like a seed (disk first, then the API)."""
    if not any_feedback(settings):  # reading none creates none (`profile show` in a fresh home)
        return [], []
    with open_feedback(settings) as store:
        signals = store.signals(name)
    bare = [p.arxiv_id for p in (*signals.liked, *signals.disliked) if not (p.title and p.abstract)]
    found = resolve_seeds(bare, home=settings.home, api=settings.arxiv) if bare else None
    text = {p.arxiv_id: p for p in found.papers} if found else {}

    def paper(f: FeedbackPaper) -> ProfilePaper | None:
        if f.title and f.abstract:
            return ProfilePaper(f.arxiv_id, f.title, f.abstract, f.date)
        known = text.get(f.arxiv_id)
        return known._replace(date=f.date) if known else None

    liked = [p for p in map(paper, signals.liked) if p]
    disliked = [p for p in map(paper, signals.disliked) if p]
    return liked, disliked


def run_profile(settings: Settings, name: str, model: BaseChatModel | None) -> RunProfile:
    """Return the reader run `name` writes for, resolved (`model` derives Chinese interests' keywords
    once) with its feedback, the shipped MiniLM embedder and the day vector cache recall fills."""
    liked, disliked = feedback_papers(settings, name)
    resolution = resolve_profile(settings, name, model=model, liked=liked, disliked=disliked)
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
    """Return what profile `name` resolves to: keywords, seed and library papers (raises `BadFlag`,
    `LibraryError`); keywords of Chinese interests are derived with `model` when not cached yet."""
    profile_settings(settings, name)
    liked, disliked = feedback_papers(settings, name)
    return resolve_profile(settings, name, model=model, liked=liked, disliked=disliked)
