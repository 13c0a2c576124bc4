"""The running event loop's provider gates, one per provider, and the httpx transport that uses them."""

from __future__ import annotations

import asyncio
import weakref

import httpx2 as httpx

from ribao.llm.limits import GIVING_BACK, Limits, ProviderGate


class GatedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends every request through the gate of provider `name`."""

    def __init__(self, name: str, limits: Limits, inner: httpx.AsyncBaseTransport) -> None:
        self.name, self.limits, self.inner = name, limits, inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await gate(self.name, self.limits).send(request, self.inner)

    async def aclose(self) -> None:
        await self.inner.aclose()


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ProviderGate]] = (
    weakref.WeakKeyDictionary()
)


async def settle_gates() -> None:
    """End the running loop's gates: wait for the shared slots being given back, then close their
    shared budgets' connections. A run calls it as it ends: a worker runs many jobs, each in its own
    event loop, and a give-back still pending when `asyncio.run` ends would be cancelled (the slot held
    until its lease expires) and the budget's connection left open."""
    loop = asyncio.get_running_loop()
    for g in list(_gates.pop(loop, {}).values()):
        await g.settle()
    late = [t for t in GIVING_BACK if t.get_loop() is loop]  # of gates settled before
    await asyncio.gather(*late, return_exceptions=True)


def gate(name: str, limits: Limits) -> ProviderGate:
    """Return the running loop's gate of provider `name` (created with `limits` on first use)."""
    per_loop = _gates.setdefault(asyncio.get_running_loop(), {})
    if name not in per_loop:
        per_loop[name] = ProviderGate(name, limits)
    return per_loop[name]
