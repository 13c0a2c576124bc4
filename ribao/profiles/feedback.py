"""A reader's feedback on papers — like, dislike, not interested — kept per profile with its date.

Stored in the run log's database — `<home>/runs.sqlite`, or the database of `[store] url` so a team's
machines share it — in the table `ribao.runs.schema.feedback`, created by its Alembic revision like every
other table (an older home's `feedback.sqlite` is moved in once, see `feedback_legacy`). Each command adds
events; a paper's current verdict for a profile is its newest event. The relevance of a profile
(`ribao.profiles.relevance`) reads `signals()`: liked papers pull alike papers up, disliked and not-
interested ones push alike papers down, within the bound that module states. A `feedback.toml` committed
beside the config (the GitHub Actions recipe) is read on each run by `sync_file`: its entries replace the
file's earlier ones, so reading it twice counts once.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import sqlalchemy as sa

from ribao.arxiv_ids import parse_id
from ribao.errors import ConfigError, FeedbackStoreError
from ribao.profiles.feedback_legacy import LEGACY_FILE, import_legacy
from ribao.runs.backend import RUNS_FILE
from ribao.runs.engine import open_current
from ribao.runs.schema import feedback

Verb = Literal["like", "dislike", "not-interested"]
VERBS: tuple[Verb, ...] = get_args(Verb)
#: Verbs that lower the relevance of alike papers.
NEGATIVE: frozenset[str] = frozenset({"dislike", "not-interested"})
FILE_NAME = "feedback.toml"


@dataclass(frozen=True)
class FeedbackEntry:
    """One piece of feedback: who (profile) said what (verb) of which paper, when, and from where."""

    id: int
    profile: str
    verb: str
    arxiv_id: str
    at: dt.datetime
    origin: str
    title: str | None = None
    abstract: str | None = None


@dataclass(frozen=True)
class FeedbackPaper:
    """A paper the reader judged, with its text when known (else the relevance reads it by id)."""

    arxiv_id: str
    title: str | None
    abstract: str | None
    date: dt.date


@dataclass
class Signals:
    """A profile's current verdicts: papers liked, and papers disliked or marked not interested."""

    liked: list[FeedbackPaper] = field(default_factory=list)
    disliked: list[FeedbackPaper] = field(default_factory=list)


@dataclass(frozen=True)
class FileSync:
    """What reading a feedback.toml changed: entries added and removed, per profile."""

    added: int
    removed: int
    profiles: tuple[str, ...]


class FeedbackStore:
    """The feedback of every profile in one table; safe for several processes at once."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def exists(cls, home: Path, store_url: str | None = None) -> bool:
        """Return whether there may be feedback to read: a database server, or the home's run log."""
        return bool(store_url) or (home / RUNS_FILE).exists() or (home / LEGACY_FILE).exists()

    @classmethod
    def open(cls, home: Path, store_url: str | None = None) -> FeedbackStore:
        """Open the feedback table of the run log's database (`<home>/runs.sqlite`, or the `store_url`
        database), migrated to this ribao's schema; on SQLite an older `feedback.sqlite` is moved in.

        Raises `FeedbackStoreError` for a home that cannot be created, `RunLogError` for a database
        that cannot be used or is from a newer ribao, `StoreUnreachable` for a server out of reach."""
        try:
            engine, _ = open_current(home, store_url)
        except OSError as exc:
            raise FeedbackStoreError(f"cannot use the feedback database {home / RUNS_FILE}: {exc}") from exc
        if store_url is None:
            try:
                import_legacy(engine, home)
            except BaseException:
                engine.dispose()
                raise
        return cls(engine)

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """Yield a connection in one write transaction; on SQLite ``BEGIN IMMEDIATE``, so writers queue."""
        with self.engine.connect() as conn:
            conn.execution_options(ribao_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self,
        profile: str,
        verb: Verb,
        ids: Sequence[str],
        *,
        at: dt.datetime | None = None,
        texts: Mapping[str, tuple[str, str]] | None = None,
        origin: str = "cli",
    ) -> list[FeedbackEntry]:
        """Record `verb` for each paper of `ids` (canonical ids) in one transaction; `texts` gives
        (title, abstract) by id where known."""
        when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
        texts = texts or {}
        rows = [
            {"profile": profile, "verb": verb, "arxiv_id": i, "at": when, "origin": origin,
             "title": texts.get(i, (None, None))[0], "abstract": texts.get(i, (None, None))[1]}
            for i in ids
        ]  # fmt: skip
        if not rows:
            return []
        with self._writing() as conn:
            got = conn.execute(feedback.insert().returning(*feedback.c, sort_by_parameter_order=True), rows)
            return [_entry(r) for r in got]

    def entries(self, profile: str | None = None) -> list[FeedbackEntry]:
        """Return every event, oldest first (of one profile when given)."""
        query = sa.select(feedback).order_by(feedback.c.id)
        if profile is not None:
            query = query.where(feedback.c.profile == profile)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def current(self, profile: str) -> dict[str, FeedbackEntry]:
        """Return the newest event per paper of `profile`: its current verdict."""
        latest: dict[str, FeedbackEntry] = {}
        for entry in self.entries(profile):
            latest[entry.arxiv_id] = entry
        return latest

    def counts(self, profile: str) -> dict[str, int]:
        """Return how many papers hold each verdict for `profile`."""
        out: dict[str, int] = dict.fromkeys(VERBS, 0)
        for entry in self.current(profile).values():
            out[entry.verb] = out.get(entry.verb, 0) + 1
        return out

    def undo(self, profile: str) -> FeedbackEntry | None:
        """Delete the newest command-line event of `profile` and return it (None when there is none).
        A feedback.toml's entries are undone by editing the file."""
        with self._writing() as conn:
            row = conn.execute(
                sa.select(feedback)
                .where(feedback.c.profile == profile, feedback.c.origin == "cli")
                .order_by(feedback.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            conn.execute(feedback.delete().where(feedback.c.id == row.id))
        return _entry(row)

    def reset(self, profile: str) -> int:
        """Delete every event of `profile`; return how many there were."""
        with self._writing() as conn:
            return conn.execute(feedback.delete().where(feedback.c.profile == profile)).rowcount or 0

    def signals(self, profile: str) -> Signals:
        """Return the papers `profile` currently likes and dislikes (not interested counts as dislike)."""
        out = Signals()
        for entry in sorted(self.current(profile).values(), key=lambda e: e.id):
            paper = FeedbackPaper(entry.arxiv_id, entry.title, entry.abstract, entry.at.date())
            (out.disliked if entry.verb in NEGATIVE else out.liked).append(paper)
        return out

    def sync_file(self, path: Path, profiles: Iterable[str]) -> FileSync:
        """Make the file-origin events equal `path`'s entries (see `read_file`), keeping the date an
        unchanged entry was first read; a second read of the same file changes nothing."""
        wanted = read_file(path, profiles)
        added = removed = 0
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._writing() as conn:
            rows = conn.execute(sa.select(feedback).where(feedback.c.origin == "file")).all()
            have = {(r.profile, r.verb, r.arxiv_id): r.id for r in rows}
            gone = [rid for key, rid in have.items() if key not in wanted]
            if gone:
                removed = conn.execute(feedback.delete().where(feedback.c.id.in_(gone))).rowcount or 0
            new = [{"profile": p, "verb": v, "arxiv_id": i, "at": now, "origin": "file"}
                   for (p, v, i) in wanted if (p, v, i) not in have]  # fmt: skip
            if new:
                conn.execute(feedback.insert(), new)
                added = len(new)
        return FileSync(added, removed, tuple(sorted({p for p, _, _ in wanted})))


def _entry(row: sa.Row) -> FeedbackEntry:  # type: ignore[type-arg]
    return FeedbackEntry(
        id=row.id, profile=row.profile, verb=row.verb, arxiv_id=row.arxiv_id,
        at=dt.datetime.fromisoformat(row.at), origin=row.origin, title=row.title, abstract=row.abstract,
    )  # fmt: skip


def read_file(path: Path, profiles: Iterable[str]) -> dict[tuple[str, str, str], None]:
    """Read a feedback.toml: one table per profile, each verb a list of arXiv ids::

        [default]
        like = ["2602.15067"]
        not-interested = ["2602.15100"]

    Returns the (profile, verb, canonical id) entries in file order. Raises `ConfigError` naming the
    file and the key for an unknown profile or verb, an id that is no arXiv id (or not quoted: TOML
    reads 2602.15060 as the number 2602.1506), or a paper given two verdicts.
    """
    try:
        # utf-8-sig: editors on Windows save a byte-order mark, which tomllib refuses.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    known = list(profiles)
    out: dict[tuple[str, str, str], None] = {}
    verdicts: dict[tuple[str, str], str] = {}
    for profile, table in data.items():
        if profile not in known:
            raise ConfigError(f"{path}: unknown profile {profile!r}; known: {', '.join(known)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{profile}] must be a table of verbs (like, dislike, not-interested)")
        for verb, ids in table.items():
            if verb not in VERBS:
                raise ConfigError(f"{path}: [{profile}] unknown verb {verb!r}; use {', '.join(VERBS)}")
            if not isinstance(ids, list):
                raise ConfigError(f"{path}: [{profile}] {verb} must be a list of arXiv ids")
            for raw in ids:
                if not isinstance(raw, str):
                    raise ConfigError(
                        f'{path}: [{profile}] {verb}: quote each id ("2602.15067"), got {raw!r}'
                    )
                try:
                    key = parse_id(raw)
                except ValueError as exc:
                    raise ConfigError(f"{path}: [{profile}] {verb}: {exc}") from exc
                other = verdicts.setdefault((profile, key), verb)
                if other != verb:
                    raise ConfigError(f"{path}: [{profile}] {key} is under both {other} and {verb}")
                out[(profile, verb, key)] = None
    return out
