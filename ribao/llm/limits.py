"""Per-provider request limits: concurrency, requests/tokens per minute, one shared backoff, a breaker.

All of a provider's calls (every agent that uses it) pass through one `ProviderGate`, installed as
the HTTP transport of its chat models, so the limits hold however many graph tasks run at once:

- at most `max_concurrency` requests in flight (an `asyncio.Semaphore`, held until the body is read);
- optional `requests_per_minute` / `tokens_per_minute` (aiolimiter leaky buckets; tokens are
  estimated as request bytes / 4 plus the output cap);
- retries (tenacity) on 429, 5xx, timeouts and connection errors, up to `max_retries` per request;
  a 429 or 5xx pauses the whole provider (every task waits, as `Retry-After` says or else
  0.5 s doubling to 8 s with jitter), so raising concurrency never turns into a retry storm;
- a circuit breaker: after `breaker_threshold` consecutive failed attempts (5xx, timeouts,
  connection errors; 429 is "slow down", not "down") the provider counts as down for the rest of
  the run and every further request fails at once with a 503 naming the last error.

Gates live per event loop (asyncio primitives are bound to the loop that uses them).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_PAUSE_S = 60.0


@dataclass(frozen=True)
class Limits:
    """One provider's limits (see the module docstring); `timeout` is seconds per attempt."""

    max_concurrency: int = 8
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    timeout: float = 60.0
    max_retries: int = 2
    breaker_threshold: int = 5


class _Retry(Exception):
    """An attempt that may be retried: a retryable status (response kept) or a transport error."""

    def __init__(self, response: httpx.Response | None, error: Exception | None) -> None:
        super().__init__(str(error) if error else f"HTTP {response.status_code if response else '?'}")
        self.response, self.error = response, error


class ProviderGate:
    """The limits, shared backoff and breaker of one provider within one event loop."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self._slots = asyncio.Semaphore(limits.max_concurrency)
        rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
        self._rpm = AsyncLimiter(rpm, 60) if rpm else None
        self._tpm = AsyncLimiter(tpm, 60) if tpm else None
        self.paused_until = 0.0  # time.monotonic() before which nobody sends
        self.failures = 0  # consecutive failed attempts, all tasks together
        self.down: str | None = None  # why the breaker opened
        self.attempts = 0

    def _pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + min(seconds, MAX_PAUSE_S))

    async def _wait_turn(self, tokens: int) -> None:
        while (delay := self.paused_until - time.monotonic()) > 0:
            await asyncio.sleep(delay + random.uniform(0, 0.05))
        if self._rpm:
            await self._rpm.acquire()
        if self._tpm:
            await self._tpm.acquire(min(tokens, self.limits.tokens_per_minute or tokens))

    def _failed(self, why: str, *, counts: bool) -> None:
        if counts:
            self.failures += 1
            if self.failures >= self.limits.breaker_threshold and self.down is None:
                self.down = f"{self.failures} consecutive failures, last: {why}"

    def _down_response(self, request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": f"provider {self.name} is down ({self.down}); not retrying"}}
        return httpx.Response(503, json=body, request=request)

    async def send(self, request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response:
        """Send `request` through `inner` within the limits; return the last response or raise."""
        tokens = len(request.content or b"") // 4 + _max_tokens(request)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.limits.max_retries + 1),
            retry=retry_if_exception_type(_Retry),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(request, inner, tokens, attempt.retry_state.attempt_number)
        except _Retry as last:
            if last.response is not None:
                return last.response
            assert last.error is not None
            raise last.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, request: httpx.Request, inner: httpx.AsyncBaseTransport, tokens: int, number: int
    ) -> httpx.Response:
        await self._slots.acquire()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._slots.release()

        try:
            await self._wait_turn(tokens)
            if self.down:
                release()
                return self._down_response(request)
            self.attempts += 1
            try:
                response = await inner.handle_async_request(request)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self._failed(f"{type(exc).__name__}: {exc}", counts=True)
                self._pause(_backoff(number))
                raise _Retry(None, exc) from exc
            if response.status_code in RETRY_STATUS:
                await response.aread()
                await response.aclose()
                self._failed(f"HTTP {response.status_code}", counts=response.status_code != 429)
                self._pause(_retry_after(response) or _backoff(number))
                raise _Retry(response, None)
            self.failures = 0
            response.stream = _Releasing(response.stream, release)  # type: ignore[arg-type]
            return response
        except BaseException:
            release()
            raise


class _Releasing(httpx.AsyncByteStream):
    """A response body that frees the gate's slot once it has been read or closed."""

    def __init__(self, stream: Any, release: Any) -> None:
        self._stream, self._release = stream, release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


def _max_tokens(request: httpx.Request) -> int:
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return 0
    extra = body.get("max_tokens") or body.get("max_completion_tokens") or 0
    return int(extra) if isinstance(extra, int | float) else 0


def _backoff(attempt: int) -> float:
    """0.5 s doubling per attempt up to 8 s, with up to 25 % jitter."""
    base = min(8.0, 0.5 * 2 ** (attempt - 1))
    return base * random.uniform(1.0, 1.25)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds only), or None."""
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value) / scale)
            except ValueError:
                continue
    return None


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


def gate(name: str, limits: Limits) -> ProviderGate:
    """Return the running loop's gate of provider `name` (created with `limits` on first use)."""
    per_loop = _gates.setdefault(asyncio.get_running_loop(), {})
    if name not in per_loop:
        per_loop[name] = ProviderGate(name, limits)
    return per_loop[name]
