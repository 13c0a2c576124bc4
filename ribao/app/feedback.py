"""Use cases of a reader's feedback: give it, list it, undo it, reset it, read a feedback.toml."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ribao.arxiv_ids import parse_id
from ribao.errors import BadFlag
from ribao.profiles.feedback import FILE_NAME, VERBS, FeedbackEntry, FeedbackStore, FileSync, Verb
from ribao.profiles.names import check_profile, profile_names
from ribao.runs.backend import RUNS_FILE
from ribao.runs.db import RunLog
from ribao.runs.papers import SeenPaper, seen_candidates

if TYPE_CHECKING:
    from ribao.settings import Settings


@dataclass(frozen=True)
class Given:
    """What `give` recorded, and which of those papers no recorded run ever had as a candidate."""

    profile: str
    entries: list[FeedbackEntry]
    seen: dict[str, SeenPaper]

    @property
    def unseen(self) -> list[str]:
        return [e.arxiv_id for e in self.entries if e.arxiv_id not in self.seen]


def open_feedback(settings: Settings) -> FeedbackStore:
    """Open the feedback store of the settings' home (or of `[store] url`)."""
    return FeedbackStore.open(settings.home, settings.store.url)


def canonical_ids(raw: Sequence[str]) -> list[str]:
    """Return the canonical ids of `raw`, each once; raises `BadFlag` naming what is no arXiv id."""
    out: list[str] = []
    for value in raw:
        try:
            out.append(parse_id(value))
        except ValueError as exc:
            raise BadFlag(f"{exc} (give ids one by one, e.g. 2602.15067 or arXiv:2602.15067v2)") from None
    return list(dict.fromkeys(out))


def give(settings: Settings, verb: Verb, ids: Sequence[str], profile: str | None = None) -> Given:
    """Record `verb` for each paper of `ids` for `profile`, with its title when a recorded run saw it.

    Raises `BadFlag` for an unknown profile or an id that is no arXiv id, before recording anything.
    """
    name = check_profile(settings, profile)
    keys = canonical_ids(ids)
    seen: dict[str, SeenPaper] = {}
    if settings.store.url or (settings.home / RUNS_FILE).exists():
        with RunLog.open(settings.home, url=settings.store.url) as log:
            seen = seen_candidates(log, keys)
    texts = {k: (p.title, "") for k, p in seen.items()}
    with open_feedback(settings) as store:
        entries = store.add(name, verb, keys, texts=texts)
    return Given(name, entries, seen)


def any_feedback(settings: Settings) -> bool:
    """Return whether a feedback database exists: reading none creates none (nor the home)."""
    return FeedbackStore.exists(settings.home, settings.store.url)


def entries(settings: Settings, profile: str | None = None) -> list[FeedbackEntry]:
    """Return the feedback events, oldest first, of one profile or (None) of all."""
    if profile is not None:
        check_profile(settings, profile)
    if not any_feedback(settings):
        return []
    with open_feedback(settings) as store:
        return store.entries(profile)


def undo(settings: Settings, profile: str | None = None) -> FeedbackEntry | None:
    """Take back the newest command-line feedback of `profile`; None when there is none."""
    name = check_profile(settings, profile)
    if not any_feedback(settings):
        return None
    with open_feedback(settings) as store:
        return store.undo(name)


def reset(settings: Settings, profile: str | None = None) -> int:
    """Forget every feedback of `profile`; return how many events there were."""
    name = check_profile(settings, profile)
    if not any_feedback(settings):
        return 0
    with open_feedback(settings) as store:
        return store.reset(name)


def counts(settings: Settings, profile: str) -> dict[str, int]:
    """Return how many papers `profile` currently likes, dislikes, or marked not interested."""
    if not any_feedback(settings):
        return dict.fromkeys(VERBS, 0)
    with open_feedback(settings) as store:
        return store.counts(profile)


def sync_file(settings: Settings) -> FileSync | None:
    """Read `<home>/feedback.toml` when it exists (the Actions recipe commits it); None when absent.

    Raises `ConfigError` naming the file and the key for a malformed file, before any model call.
    """
    path = settings.home / FILE_NAME
    if not path.exists():
        return None
    with open_feedback(settings) as store:
        return store.sync_file(path, profile_names(settings))
