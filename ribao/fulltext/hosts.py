"""The full-text hosts a run has given up on, and why: a connection-level failure or a spent retry budget."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

import requests

_UNREACHABLE = {errno.ENETUNREACH: "network unreachable", errno.EHOSTUNREACH: "host unreachable"}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield `exc` and every exception inside it: causes, contexts, urllib3's `reason`, wrapped args."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        inner = [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        todo.extend(x for x in inner if isinstance(x, BaseException))


def connection_failure(exc: BaseException) -> str | None:
    """Return why `exc` shows the host cannot be reached at all in this run ("name not resolved",
    "connection refused", "network unreachable", "TLS failure"), or None for a failure that may heal
    (a timeout, a reset connection, a 429 or 5xx answer)."""
    if isinstance(exc, requests.Timeout):  # ConnectTimeout is a ConnectionError too, and may heal
        return None
    for e in _chain(exc):
        if isinstance(e, socket.gaierror):
            return "name not resolved"
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, (ssl.SSLError, requests.exceptions.SSLError)):
            return "TLS failure"
        if isinstance(e, OSError) and e.errno in _UNREACHABLE:
            return _UNREACHABLE[e.errno]
    return None


class HostLedger:
    """Per host of one run: the seconds spent on failed tries that may heal, and the hosts given up.

    A host is given up at its first connection-level failure, or once its failed tries (timeouts,
    429, 5xx, with their backoff) have cost `budget_seconds`; a given-up host is not asked again.
    """

    def __init__(self, budget_seconds: float) -> None:
        self.budget_seconds = budget_seconds
        self._spent: dict[str, float] = {}
        self._given_up: dict[str, str] = {}

    def reason(self, host: str) -> str | None:
        """Return why `host` was given up, or None while it may still be asked."""
        return self._given_up.get(host)

    def left(self, host: str) -> float:
        """Return the seconds of retry budget `host` has left."""
        return self.budget_seconds - self._spent.get(host, 0.0)

    def give_up(self, host: str, reason: str) -> None:
        """Stop asking `host` for the rest of the run."""
        self._given_up.setdefault(host, reason)

    def spend(self, host: str, seconds: float) -> None:
        """Add a failed request's `seconds` to `host`; give it up once its budget is spent."""
        self._spent[host] = self._spent.get(host, 0.0) + seconds
        if self.left(host) <= 0:
            self.exhaust(host, 0.0)

    def exhaust(self, host: str, pending: float) -> None:
        """Give `host` up for its budget: `pending` seconds of the current request are not spent yet."""
        self.give_up(host, f"still failing after {self._spent.get(host, 0.0) + pending:.1f} s of retries")
