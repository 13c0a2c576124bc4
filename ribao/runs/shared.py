"""Paper-level work shared by the runs of one scope (triage scores, rubric, summaries), by content key,
in the run log's database (`<home>/runs.sqlite`, or the Postgres at `store.url`).

Single flight: the first run that needs a missing answer claims its key (a row with no value, an owner
and a lease expiry) and pays; a run that finds the key claimed by a live owner waits for the answer; a
claim released (its request failed) or not renewed in time (its owner died) is taken over. Plain SQL:
each claim is one short transaction (SQLite's write lock, or a Postgres advisory lock per scope).

An answer is stored in one transaction with the run-log rows of the calls that paid for it (`put_many`):
a run killed after storing it has its calls on record, and whoever reuses the answer records none.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ribao.runs.call_rows import insert_calls
from ribao.runs.engine import open_engine
from ribao.runs.migrations import upgrade
from ribao.runs.redact import known_secrets
from ribao.runs.rows import iso_utc
from ribao.runs.schema import shared_work as table

if TYPE_CHECKING:
    from ribao.calls import PaidCalls

# The first key of the Postgres advisory lock a claim takes ("ribao shared"); the second is the scope's.
CLAIM_NS = 0x7269_7368


#: One stored row of a key: (value, owner, lease_until).
Row = tuple[str | None, str | None, float | None]


class SharedWork:
    """The shared answers of scope `scope`; a claim lasts `lease_s` unless renewed; the calls stored with
    answers are scrubbed of `secrets` as the run log's are. Blocking: async callers use `to_thread`."""

    def __init__(self, engine: Engine, scope: str, *, lease_s: float, secrets: Iterable[str] = ()) -> None:
        self.engine = engine
        self.scope = scope
        self.lease_s = lease_s
        self.secrets = set(secrets)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @classmethod
    def open(cls, home: Path, url: str | None, scope: str, *, lease_s: float) -> SharedWork:
        """Open the shared work of `scope` in the run log's database (migrated first); `close` it."""
        engine, _ = open_engine(home, url)
        upgrade(engine)
        return cls(engine, scope, lease_s=lease_s, secrets=known_secrets())

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    def _write(self) -> Connection:
        conn = self.engine.connect()
        conn.execution_options(ribao_write=True)  # SQLite: BEGIN IMMEDIATE, writers queue
        return conn

    def _of(self, kind: str, keys: Mapping[str, str]) -> sa.ColumnElement[bool]:
        return sa.and_(table.c.scope == self.scope, table.c.kind == kind, table.c.key.in_(set(keys.values())))

    def get_many(self, kind: str, keys: Mapping[str, str]) -> dict[str, str]:
        """Return {name: value} for the `keys` ({name: key}) answered already under `kind`."""
        return self._split(keys, self._rows(self.engine, kind, keys), owner="")[0] if keys else {}

    def claim(self, kind: str, keys: Mapping[str, str], owner: str) -> tuple[dict[str, str], list[str]]:
        """Return the answers {name: value} of `keys` found and the names `owner` now holds a claim on
        (missing keys, keys whose lease expired, and keys it claimed before: a resumed run); the rest
        are being paid for by another live run."""
        if not keys:
            return {}, []
        now = time.time()
        until = now + self.lease_s
        seen = self._rows(self.engine, kind, keys)
        if len(seen) == len(set(keys.values())) and all(
            value is not None or (who != owner and lease is not None and lease >= now)
            for value, who, lease in seen.values()
        ):  # all answered or held by live others: nothing to take, so no write lock (waiters poll here)
            return self._split(keys, seen, owner)
        with self._write() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:ns, :scope)"),
                    {"ns": CLAIM_NS, "scope": zlib.crc32(self.scope.encode()) - 2**31},
                )
            rows = [
                {"scope": self.scope, "kind": kind, "key": k, "owner": owner, "lease_until": until,
                 "created_at": iso_utc()}
                for k in sorted(set(keys.values()))
            ]  # fmt: skip
            conn.execute(self._insert(table).values(rows).on_conflict_do_nothing())
            conn.execute(
                table.update()
                .where(self._of(kind, keys), table.c.value.is_(None), table.c.lease_until < now)
                .values(owner=owner, lease_until=until)
            )
            got = self._rows(conn, kind, keys)
        return self._split(keys, got, owner)

    def _rows(self, db: Engine | Connection, kind: str, keys: Mapping[str, str]) -> dict[str, Row]:
        """Return {key: (value, owner, lease_until)} of the rows of `keys` (on `db`, or a new connection)."""
        query = sa.select(table.c.key, table.c.value, table.c.owner, table.c.lease_until).where(
            self._of(kind, keys)
        )
        if isinstance(db, Engine):
            with db.connect() as conn:
                return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(query)}
        return {r[0]: (r[1], r[2], r[3]) for r in db.execute(query)}

    @staticmethod
    def _split(keys: Mapping[str, str], rows: dict[str, Row], owner: str) -> tuple[dict[str, str], list[str]]:
        """Return the answers {name: value} among `rows` and the names `owner` holds unanswered."""
        found: dict[str, str] = {}
        held: list[str] = []
        for name, key in keys.items():
            value, who, _ = rows.get(key, (None, None, None))
            if value is not None:
                found[name] = value
            elif who == owner:
                held.append(name)
        return found, held

    def renew(self, kind: str, keys: Mapping[str, str], owner: str) -> None:
        """Extend `owner`'s claims on `keys` by a lease (it is still paying)."""
        with self._write() as conn, conn.begin():
            conn.execute(
                table.update()
                .where(self._of(kind, keys), table.c.value.is_(None), table.c.owner == owner)
                .values(lease_until=time.time() + self.lease_s)
            )

    def release(self, kind: str, keys: Mapping[str, str], owner: str) -> None:
        """Drop `owner`'s unanswered claims on `keys` (its request failed): the next run to ask pays."""
        with self._write() as conn, conn.begin():
            conn.execute(
                table.delete().where(self._of(kind, keys), table.c.value.is_(None), table.c.owner == owner)
            )

    def put_many(self, kind: str, values: Mapping[str, str], paid: PaidCalls | None = None) -> None:
        """Store answers {key: value} under `kind`, ending their claims (an answered key keeps its first),
        and record the `paid` calls that answered them in the run log, in the same transaction."""
        calls = paid.calls if paid is not None else ()
        if not values and not calls:
            return
        with self._write() as conn, conn.begin():
            if values:
                conn.execute(self._answers(kind, values))
            if paid is not None and calls:
                insert_calls(conn, paid.run_id, paid.node, calls, task_id=paid.task_id, secrets=self.secrets)

    def _answers(self, kind: str, values: Mapping[str, str]) -> sa.Insert:
        """Return the upsert storing `values` ({key: value}) unless a key is answered already."""
        rows = [
            {"scope": self.scope, "kind": kind, "key": k, "value": v, "owner": None, "lease_until": None,
             "created_at": iso_utc()}
            for k, v in sorted(values.items())
        ]  # fmt: skip
        stmt = self._insert(table).values(rows)
        return stmt.on_conflict_do_update(
            index_elements=[table.c.scope, table.c.kind, table.c.key],
            set_={"value": stmt.excluded.value, "owner": None, "lease_until": None},
            where=table.c.value.is_(None),
        )
