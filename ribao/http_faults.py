"""Which HTTP faults can heal: the retryable statuses, the server's Retry-After, unreachable hosts.

One rule for every HTTP client of ribao: the LLM providers' gate (`ribao.llm.limits`) and the
arXiv and full-text sessions (`ribao.sources.session`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import socket
import ssl
from collections.abc import Mapping
from typing import Protocol

#: Statuses worth asking again: request timeout, conflict (OpenAI's "try again"), rate limit, and
#: the server-side faults that come and go. Any other 4xx is the request's fault; 501 never heals.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

_SECONDS = re.compile(r"\d+(\.\d+)?")


class HasHeaders(Protocol):
    """A response of requests or httpx: both have case-insensitive headers."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def retry_after_seconds(response: HasHeaders, *, now: dt.datetime | None = None) -> float | None:
    """Return the wait the server asks for, in seconds >= 0, or None if it asks none we can read.

    Reads `retry-after-ms` (OpenAI's, milliseconds) first, then `Retry-After` as delta-seconds or
    an HTTP date (RFC 9110 §10.2.3; a date in the past is 0). `now` (UTC) defaults to the clock.
    """
    headers = response.headers
    millis = (headers.get("retry-after-ms") or "").strip()
    if _SECONDS.fullmatch(millis):
        return float(millis) / 1000
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def unreachable(error: BaseException) -> str | None:
    """Return why no connection could be made, if that will not heal within a run, else None.

    "connection refused", "host name not resolved" or "TLS failure: …", read from the error and
    its causes (httpx and requests both wrap the socket's error); a timeout or a dropped
    connection is None: those heal.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "host name not resolved"
        if isinstance(current, ssl.SSLError):
            return f"TLS failure: {current.reason or current}"
        current = current.__cause__ or current.__context__
    return None
