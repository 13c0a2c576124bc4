"""Per-provider request limits: concurrency, requests/tokens per minute, one shared backoff, a breaker.

All of a provider's calls (every agent that uses it) pass through one `ProviderGate`, installed as
the HTTP transport of its chat models, so the limits hold however many graph tasks run at once:

- at most `max_concurrency` requests in flight (an `asyncio.Semaphore`, held until the body is read);
- optional `requests_per_minute` / `tokens_per_minute` (aiolimiter leaky buckets; tokens are
  estimated as request bytes / 4 plus the output cap);
- retries (tenacity) on what can heal (`ribao.http_faults.RETRY_STATUSES`, timeouts, dropped
  connections) for `retry_seconds` after a request's first failure, so a burst of 5xx lasting
  seconds to a minute costs a wait, not the day's run; a 429 or 5xx pauses the whole provider
  (every task waits, as `Retry-After` says or else `backoff_seconds` doubling up to 16 times that,
  with jitter), so raising concurrency never turns into a retry storm; a Retry-After beyond the
  budget gives up at once;
- a circuit breaker: the provider counts as down for the rest of the run, and every further
  request fails at once with `ProviderDown`, after `breaker_threshold` attempts in a row could not
  connect (refused, unknown host, TLS: that does not heal within a run), or once no attempt of any
  task has succeeded for `retry_seconds` (429 is "slow down", not "down").

Gates live per event loop (asyncio primitives are bound to the loop that uses them): see `ribao.llm.gates`.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import httpx2 as httpx
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.stop import stop_base

from ribao.background import keep
from ribao.errors import ProviderDown, ProviderError
from ribao.http_faults import RETRY_STATUSES, retry_after_seconds, unreachable
from ribao.llm.config import ModelConfig
from ribao.llm.gate_io import Releasing, error_said, max_tokens
from ribao.llm.shared import SharedBudget

# Every give-back still running, held here too: a request cancelled with its run (a worker's stop) may
# unwind after the run settled and dropped its gate, and a task only the dropped gate held would be
# garbage collected mid-query ("Task was destroyed but it is pending", "Event loop is closed").
GIVING_BACK: set[asyncio.Future[None]] = set()


@dataclass(frozen=True)
class Limits:
    """One provider's limits, taken from its `ModelConfig` (where each default is stated); seconds.

    `label` names the provider in messages (`ModelConfig.provider_label`).
    """

    label: str
    max_concurrency: int
    requests_per_minute: int | None
    tokens_per_minute: int | None
    timeout: float
    retry_seconds: float
    backoff_seconds: float
    max_retries: int | None
    breaker_threshold: int
    shared_url: str | None = None

    @classmethod
    def from_config(cls, cfg: ModelConfig) -> Limits:
        """Return the limits `cfg` sets for its provider."""
        return cls(
            label=cfg.provider_label,
            max_concurrency=cfg.max_concurrency,
            requests_per_minute=cfg.requests_per_minute,
            tokens_per_minute=cfg.tokens_per_minute,
            timeout=cfg.timeout,
            retry_seconds=cfg.retry_seconds,
            backoff_seconds=cfg.backoff_seconds,
            max_retries=cfg.max_retries,
            breaker_threshold=cfg.breaker_threshold,
            shared_url=cfg.shared_limits_url,
        )


class _Retry(Exception):
    """An attempt that failed in a way that may heal; `why` says how, for the give-up message."""

    def __init__(self, why: str, error: Exception | None = None) -> None:
        super().__init__(why)
        self.why, self.error = why, error


@dataclass
class _Tries:
    """One request's failures: when the first ended, when the server allows the next, how many."""

    first_failure: float | None = None
    not_before: float = 0.0  # time.monotonic() before which the server asked not to come back
    asked: float | None = None  # the last Retry-After, seconds
    failures: int = 0


class _BudgetSpent(stop_base):
    """Stop when the provider is down or the request's next attempt could not start within its budget."""

    def __init__(self, gate: ProviderGate, tries: _Tries) -> None:
        self.gate, self.tries = gate, tries

    def __call__(self, retry_state: RetryCallState) -> bool:
        limits, tries = self.gate.limits, self.tries
        if self.gate.down or (limits.max_retries is not None and tries.failures > limits.max_retries):
            return True
        assert tries.first_failure is not None  # a retry follows a failure
        next_start = max(time.monotonic(), self.gate.paused_until, tries.not_before)
        return next_start - tries.first_failure > limits.retry_seconds


class ProviderGate:
    """The limits, shared backoff and breaker of one provider within one event loop."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self._slots = asyncio.Semaphore(limits.max_concurrency)
        rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
        self._rpm = AsyncLimiter(rpm, 60) if rpm else None
        self._tpm = AsyncLimiter(tpm, 60) if tpm else None
        # With a shared budget (workers on one database) the slots and buckets live in Postgres.
        self._shared = (
            SharedBudget(limits.shared_url, name, slots=limits.max_concurrency, lease_s=limits.timeout)
            if limits.shared_url
            else None
        )
        self._giving_back: set[asyncio.Future[None]] = set()
        self.paused_until = 0.0  # time.monotonic() before which nobody sends
        self.unreachable = 0  # attempts in a row, all tasks together, that could not connect
        self.failing_since: float | None = None  # when the current run of failed attempts began
        self.down: str | None = None  # why the breaker opened
        self.attempts = 0

    def _pause(self, seconds: float) -> None:
        # Never longer than anyone would retry: a longer Retry-After makes the request give up instead.
        until = time.monotonic() + min(seconds, self.limits.retry_seconds)
        self.paused_until = max(self.paused_until, until)

    def _backoff(self, failures: int) -> float:
        """`backoff_seconds` doubling per failure up to 16 times that, with up to 25 % jitter."""
        return self.limits.backoff_seconds * min(16, 2 ** (failures - 1)) * random.uniform(1.0, 1.25)

    async def _wait_turn(self, tokens: int) -> None:
        while (delay := self.paused_until - time.monotonic()) > 0:
            await asyncio.sleep(delay + random.uniform(0, 0.05))
        rpm, tpm = self.limits.requests_per_minute, self.limits.tokens_per_minute
        if self._shared is not None:
            if rpm:
                await self._shared.take("requests", rpm, 1)
            if tpm:
                await self._shared.take("tokens", tpm, tokens)
            return
        if self._rpm:
            await self._rpm.acquire()
        if self._tpm:
            await self._tpm.acquire(min(tokens, tpm or tokens))

    def _succeeded(self) -> None:
        self.unreachable, self.failing_since = 0, None

    def _failed(self, tries: _Tries, why: str, wait: float, *, cannot_connect: bool, counts: bool) -> None:
        """Record a failed attempt of `tries`; pause the provider `wait` s; open the breaker if down."""
        now = time.monotonic()
        tries.failures += 1
        tries.first_failure = tries.first_failure or now
        self._pause(wait)
        self.unreachable = self.unreachable + 1 if cannot_connect else 0
        if not counts:  # a 429: the provider is up, only busy
            return
        self.failing_since = self.failing_since or now
        failing = max(now, self.paused_until) - self.failing_since
        if self.down is not None:
            return
        if cannot_connect and self.unreachable >= self.limits.breaker_threshold:
            self.down = why
        elif failing > self.limits.retry_seconds:
            self.down = (
                f"no attempt has succeeded for {now - self.failing_since:.1f} s and the retry budget is "
                f"{self.limits.retry_seconds:g} s (retry_seconds); last: {why}"
            )

    async def send(self, request: httpx.Request, inner: httpx.AsyncBaseTransport) -> httpx.Response:
        """Send `request` through `inner` within the limits; return the response or raise.

        Raises `ProviderDown` when the breaker is open, `ProviderError` when the request's own
        retry budget (or `max_retries`) ran out.
        """
        tokens = len(request.content or b"") // 4 + max_tokens(request)
        tries = _Tries()
        retrying = AsyncRetrying(
            stop=_BudgetSpent(self, tries), retry=retry_if_exception_type(_Retry), reraise=True
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(request, inner, tokens, tries)
        except _Retry as last:
            raise self._give_up(last, tries) from last.error
        raise AssertionError("unreachable")  # pragma: no cover

    def _give_up(self, last: _Retry, tries: _Tries) -> ProviderError:
        """Return the error that ends a request whose last attempt failed with `last`."""
        label, limits = self.limits.label, self.limits
        if self.down:
            return ProviderDown(f"{label}: {self.down}")
        if limits.max_retries is not None and tries.failures > limits.max_retries:
            cap = limits.max_retries
            return ProviderError(f"{label}: {last.why} on {tries.failures} attempts (max_retries = {cap})")
        if tries.asked is not None and tries.asked > limits.retry_seconds:
            return ProviderError(
                f"{label}: {last.why}, and its Retry-After ({tries.asked:g} s) is beyond the retry budget "
                f"(retry_seconds = {limits.retry_seconds:g})"
            )
        spent = time.monotonic() - (tries.first_failure or 0.0)
        return ProviderError(
            f"{label}: {last.why} on {tries.failures} attempts over {spent:.1f} s "
            f"(retry_seconds = {limits.retry_seconds:g})"
        )

    async def settle(self) -> None:
        """Wait for the slots being given back, then close the shared budget's connection."""
        if self._giving_back:
            await asyncio.gather(*list(self._giving_back), return_exceptions=True)
        if self._shared is not None:
            await self._shared.aclose()

    async def _attempt(
        self, request: httpx.Request, inner: httpx.AsyncBaseTransport, tokens: int, tries: _Tries
    ) -> httpx.Response:
        await self._slots.acquire()
        released = False
        try:
            slot = await self._shared.take_slot() if self._shared is not None else None
        except BaseException:
            self._slots.release()
            raise

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._slots.release()
                if self._shared is not None and slot is not None:
                    what = f"giving back a slot of {self.limits.label} (its lease frees it)"
                    keep(self._shared.give_slot(slot), what, (self._giving_back, GIVING_BACK))

        try:
            await self._wait_turn(tokens)
            if self.down:
                raise ProviderDown(f"{self.limits.label}: {self.down}")
            self.attempts += 1
            try:
                response = await inner.handle_async_request(request)
            except httpx.TimeoutException as exc:
                why = f"no answer within {self.limits.timeout:g} s ({type(exc).__name__})"
                self._failed(tries, why, self._backoff(tries.failures + 1), cannot_connect=False, counts=True)
                raise _Retry(why, exc) from exc
            except httpx.TransportError as exc:
                cause = unreachable(exc)
                why = cause or f"{type(exc).__name__}: {exc}"
                wait = self._backoff(tries.failures + 1)
                self._failed(tries, why, wait, cannot_connect=cause is not None, counts=True)
                raise _Retry(why, exc) from exc
            if response.status_code in RETRY_STATUSES:
                await response.aread()
                await response.aclose()
                why = f"HTTP {response.status_code}{error_said(response)}"
                asked = retry_after_seconds(response)
                tries.asked = asked
                tries.not_before = time.monotonic() + (asked or 0.0)
                wait = asked if asked is not None else self._backoff(tries.failures + 1)
                self._failed(tries, why, wait, cannot_connect=False, counts=response.status_code != 429)
                raise _Retry(why)
            self._succeeded()
            response.stream = Releasing(response.stream, release)  # type: ignore[arg-type]
            return response
        except BaseException:
            release()
            raise
