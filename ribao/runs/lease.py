"""Job leases in Postgres: a worker holds one advisory lock per running job on its own connection.

Postgres releases a session's advisory locks the moment its connection ends, a worker killed with
kill -9 included. So "this job's worker is gone" is exact and needs no clock: a job marked running
whose lease can be taken has no live worker (`orphaned`). The worker side (`hold`) watches its
connection and reports the loss, so a worker cut off from the database stops the job instead of
finishing work another worker may already be resuming.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable

from ribao.runs.backend import CONNECT_TIMEOUT_S, libpq_url

# The first key of the two-key advisory lock (a namespace: "ribao job"); the second is the job id.
LEASE_NS = 0x7269_6A62  # fits a 32-bit int
WATCH_SECONDS = 1.0  # how often the holder checks its connection


@contextlib.asynccontextmanager
async def hold(url: str, job_id: int) -> AsyncIterator[asyncio.Event]:
    """Hold the lease of `job_id` for the block; yield an event set when the connection is lost."""
    from psycopg import AsyncConnection

    conn = await AsyncConnection.connect(libpq_url(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    lost = asyncio.Event()
    try:
        await conn.execute("SELECT pg_advisory_lock(%s, %s)", (LEASE_NS, job_id))
        watch = asyncio.create_task(_watch(conn, lost))
        try:
            yield lost
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def _watch(conn: object, lost: asyncio.Event) -> None:
    """Set `lost` once a trivial query on `conn` fails (server gone, connection terminated)."""
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        try:
            await conn.execute("SELECT 1")  # type: ignore[attr-defined]
        except Exception:
            lost.set()
            return


async def orphaned(url: str, job_ids: Iterable[int]) -> list[int]:
    """Return those of `job_ids` whose lease no live connection holds (their worker is gone)."""
    from psycopg import AsyncConnection

    free = []
    async with await AsyncConnection.connect(
        libpq_url(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
    ) as conn:
        for job_id in job_ids:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LEASE_NS, job_id))
            row = await cur.fetchone()
            if row and row[0]:
                free.append(job_id)
                await conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LEASE_NS, job_id))
    return free
