"""Background work a run leaves behind (slot give-backs): a failure is one log line, and the same failure
of the same work at once (a run cut off from its database gives back a dozen slots) is said once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ribao.background import keep


async def _refused() -> None:
    raise OSError("connection refused")


def test_the_same_failure_of_a_dozen_background_tasks_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        held: set[asyncio.Future[None]] = set()
        tasks = [keep(_refused(), "giving back a slot of provider p", (held,)) for _ in range(12)]
        tasks.append(keep(_refused(), "storing an answer", (held,)))
        await asyncio.gather(*tasks, return_exceptions=True)
        assert not held

    with caplog.at_level(logging.WARNING, logger="ribao"):
        asyncio.run(main())
    assert [r.getMessage() for r in caplog.records] == [
        "giving back a slot of provider p failed: connection refused",
        "storing an answer failed: connection refused",
    ]
