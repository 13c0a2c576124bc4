"""A provider's limits shared by every worker process, held in Postgres (`store.url`).

Two tables, each changed by one statement per request, so no process needs to talk to another:

- `ribao_provider_slots`: one row per request in flight (`max_concurrency` slots per provider). A
  request takes a free slot with one ``INSERT … ON CONFLICT DO UPDATE … WHERE expired`` and deletes
  it when its response is read. A slot is a lease (the request's timeout plus a margin), so the
  slots of a worker killed mid-request come back on their own.
- `ribao_provider_budget`: one token bucket per provider and kind (requests, tokens per minute):
  level, capacity and last refill time; one ``UPDATE … SET level = refilled - cost WHERE refilled >=
  cost`` takes a request's share or, when the bucket is short, takes nothing (the caller waits the
  time the deficit takes to refill and tries again).
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from typing import Any

from ribao.runs.backend import CONNECT_TIMEOUT_S, libpq_url

SCHEMA_LOCK = 0x7269_6261_6F5F_6C6D  # "ribao_lm": two processes creating the tables at once collide
LEASE_MARGIN_S = 30.0
POLL_S = 0.05  # the first wait for a slot; doubles up to 1 s

SCHEMA = """
CREATE TABLE IF NOT EXISTS ribao_provider_slots (
    provider text NOT NULL, slot integer NOT NULL, holder text NOT NULL,
    until timestamptz NOT NULL, PRIMARY KEY (provider, slot));
CREATE TABLE IF NOT EXISTS ribao_provider_budget (
    provider text NOT NULL, kind text NOT NULL, level double precision NOT NULL,
    updated timestamptz NOT NULL, PRIMARY KEY (provider, kind));
"""

TAKE_SLOT = """
INSERT INTO ribao_provider_slots AS s (provider, slot, holder, until)
SELECT %(p)s, n, %(h)s, clock_timestamp() + make_interval(secs => %(lease)s)
  FROM generate_series(0, %(slots)s - 1) AS n
 WHERE NOT EXISTS (SELECT 1 FROM ribao_provider_slots x
                    WHERE x.provider = %(p)s AND x.slot = n AND x.until > clock_timestamp())
 LIMIT 1
ON CONFLICT (provider, slot) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
 WHERE s.until <= clock_timestamp()
RETURNING slot
"""

# Refill: `cap` per 60 s since `updated`, at most `cap`; a cost above `cap` waits for a full bucket.
TAKE_BUDGET = """
INSERT INTO ribao_provider_budget AS b (provider, kind, level, updated)
VALUES (%(p)s, %(k)s, %(cap)s - %(cost)s, clock_timestamp())
ON CONFLICT (provider, kind) DO UPDATE
   SET level = least(%(cap)s, b.level + extract(epoch FROM clock_timestamp() - b.updated) * %(cap)s / 60.0)
               - %(cost)s,
       updated = clock_timestamp()
 WHERE least(%(cap)s, b.level + extract(epoch FROM clock_timestamp() - b.updated) * %(cap)s / 60.0)
       >= least(%(cost)s, %(cap)s)
RETURNING level
"""

LEVEL = """
SELECT least(%(cap)s, level + extract(epoch FROM clock_timestamp() - updated) * %(cap)s / 60.0)
  FROM ribao_provider_budget WHERE provider = %(p)s AND kind = %(k)s
"""


class SharedBudget:
    """One provider's slots and buckets in the Postgres at `url`, used by one event loop."""

    def __init__(self, url: str, provider: str, *, slots: int, lease_s: float) -> None:
        self.url, self.provider, self.slots = libpq_url(url), provider, slots
        self.lease_s = lease_s + LEASE_MARGIN_S
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._conn: Any = None
        self._opening = asyncio.Lock()

    async def _connection(self) -> Any:
        async with self._opening:
            if self._conn is None or self._conn.closed:
                from psycopg import AsyncConnection

                conn = await AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                )
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                    await conn.execute(SCHEMA)
                self._conn = conn
            return self._conn

    async def _query(self, sql: str, args: Any) -> Any:
        """Run `sql` and return its first row (None: no row); reconnect once if the connection dropped."""
        from psycopg import OperationalError

        for attempt in (1, 2):
            conn = await self._connection()
            try:
                cur = await conn.execute(sql, args)
                return await cur.fetchone() if cur.description else None
            except OperationalError:
                # A server restart or a terminated backend: a new connection serves the next try.
                self._conn = None
                if attempt == 2:
                    raise
        return None

    async def take_slot(self) -> int:
        """Wait for a free slot of the provider; return its number (give it back with `give_slot`)."""
        wait = POLL_S
        args = {"p": self.provider, "h": self.holder, "lease": self.lease_s, "slots": self.slots}
        while True:
            row = await self._query(TAKE_SLOT, args)
            if row is not None:
                return int(row[0])
            await asyncio.sleep(wait * random.uniform(0.5, 1.0))
            wait = min(1.0, wait * 2)

    async def give_slot(self, slot: int) -> None:
        """Free `slot` (taken by this holder)."""
        await self._query(
            "DELETE FROM ribao_provider_slots WHERE provider = %s AND slot = %s AND holder = %s",
            (self.provider, slot, self.holder),
        )

    async def take(self, kind: str, cap: int, cost: float) -> None:
        """Take `cost` from the provider's `kind` bucket (`cap` per minute), waiting until it holds it."""
        args = {"p": self.provider, "k": kind, "cap": float(cap), "cost": float(cost)}
        while True:
            if await self._query(TAKE_BUDGET, args) is not None:
                return
            row = await self._query(LEVEL, args)
            short = min(cost, cap) - (row[0] if row else 0.0)
            await asyncio.sleep(max(POLL_S, short * 60.0 / cap))

    async def aclose(self) -> None:
        """Close the connection (the slots it holds are freed by the caller first)."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
