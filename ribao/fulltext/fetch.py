"""Download one full-text source (HTML, PDF or e-print) through the listing's polite HTTP session."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, retry_if_exception, retry_if_result, stop_after_attempt
from tenacity.stop import stop_base

from ribao.errors import FulltextError, HostUnreachable, ListingUnavailable, SourceMissing
from ribao.fulltext.document import Kind
from ribao.fulltext.hosts import HostLedger, connection_failure
from ribao.fulltext.options import FulltextOptions
from ribao.sources.session import RETRY_STATUSES, ApiOptions, ApiSession, stop_when_retry_after_exceeds

LABELS: dict[str, str] = {"html": "arXiv HTML", "pdf": "arXiv PDF", "latex": "arXiv e-print"}


def source_url(options: FulltextOptions, kind: Kind, arxiv_id: str, version: int | None) -> str:
    """Return the URL of one source: the kind's endpoint + canonical id + ``vN`` when the version is known."""
    base = {"html": options.html_endpoint, "pdf": options.pdf_endpoint, "latex": options.source_endpoint}[
        kind
    ]
    return f"{base.rstrip('/')}/{arxiv_id}{f'v{version}' if version else ''}"


def _may_heal(exc: BaseException) -> bool:
    """True for a request error worth another try: a timeout or a dropped connection, not a host that
    cannot be reached at all (see `connection_failure`)."""
    return isinstance(exc, (requests.Timeout, requests.ConnectionError)) and connection_failure(exc) is None


class stop_past_budget(stop_base):  # noqa: N801 - named like tenacity's own stops
    """Stop, and give the host up, before a retry whose wait would take it past its retry budget."""

    def __init__(self, session: FulltextSession) -> None:
        self.session = session

    def __call__(self, retry_state: RetryCallState) -> bool:
        hosts, host = self.session.hosts, self.session.host
        elapsed = time.monotonic() - self.session.started
        if elapsed + retry_state.upcoming_sleep < hosts.left(host):
            return False
        hosts.exhaust(host, elapsed)
        return True


class FulltextSession(ApiSession):
    """The listing's `ApiSession` (timeouts, tenacity retries on timeouts/429/5xx, Retry-After) for
    arXiv's full-text paths, plus pacing across requests, a size cap, a whole-body deadline, and one
    `HostLedger` for the run: a host that cannot be reached, or stays down past `retry_seconds`, is
    not asked again (one session serves a run's `fetch_fulltext`)."""

    def __init__(self, options: FulltextOptions) -> None:
        super().__init__(
            ApiOptions(
                timeout_seconds=options.timeout_seconds,
                delay_seconds=options.delay_seconds,
                retries=options.retries,
                backoff_seconds=options.backoff_seconds,
                max_wait_seconds=options.retry_seconds,
            ),
            origin="arXiv full text",
        )
        self.fulltext = options
        self.hosts = HostLedger(options.retry_seconds)
        self.host, self.started = "", 0.0  # of the download under way (its pacing wait included)
        self._last_request: float | None = None
        self._retrying = self._retrying.copy(
            retry=retry_if_exception(_may_heal) | retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
            stop=stop_after_attempt(options.retries + 1)
            | stop_when_retry_after_exceeds(options.retry_seconds)
            | stop_past_budget(self),
        )

    def check_body(self, content: bytes) -> None:
        """Refuse an empty answer (arXiv's body checks for Atom do not apply to papers)."""
        if not content:
            raise FulltextError(f"{self.origin}: empty answer")

    def _check(self, response: requests.Response) -> requests.Response:
        """Raise `SourceMissing` for a 4xx: on a full-text path it means this paper has no such source."""
        if 400 <= response.status_code < 500:
            response.close()
            raise SourceMissing(f"{self.origin} answered HTTP {response.status_code}: {response.reason}")
        return super()._check(response)

    def rejection_message(self, content: bytes) -> str | None:
        """Full-text paths explain a 4xx with an HTML page, not a feed: use the HTTP reason."""
        return None

    def read_body(self, response: requests.Response) -> bytes:
        """Stream the body; raise `FulltextError` past `max_bytes` or past the whole-body deadline."""
        cap, deadline = self.fulltext.max_bytes, time.monotonic() + self.fulltext.timeout_seconds
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise FulltextError(f"{self.origin}: {int(declared):,} bytes is over the size cap of {cap:,}")
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > cap:
                    raise FulltextError(f"{self.origin}: more than {cap:,} bytes, over the size cap")
                if time.monotonic() > deadline:
                    raise FulltextError(
                        f"{self.origin}: body not complete within {self.fulltext.timeout_seconds:g} s",
                        transient=True,
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise FulltextError(
                f"{self.origin}: {type(exc).__name__} while reading the body", transient=True
            ) from exc
        finally:
            response.close()
        body = b"".join(chunks)
        response._content = body  # so `response.content` stays usable after streaming
        return body

    def download(self, kind: Kind, url: str) -> bytes:
        """Return the body at `url`, waiting `delay_seconds` since the previous request.

        Raises `SourceMissing` for a 4xx (e.g. 404, no HTML for this paper); `HostUnreachable` when
        the host failed at the connection level or spent its retry budget, now or earlier in the run
        (then without a request or a wait); `FulltextError` naming the source and URL for the server
        down or silent after the retries, an empty, oversized or too slow body.
        """
        host = urlsplit(url).netloc
        given_up = self.hosts.reason(host)
        if given_up is not None:
            raise HostUnreachable(
                f"not asked: {host} is unreachable in this run ({given_up})",
                host=host,
                reason=given_up,
                asked=False,
            )
        self.origin, self.host, self.started = f"{LABELS[kind]} at {url}", host, time.monotonic()
        if self._last_request is not None:
            wait = self.fulltext.delay_seconds - (time.monotonic() - self._last_request)
            if wait > 0:
                time.sleep(wait)
        try:
            return self.get(url, stream=True).content
        except (ListingUnavailable, FulltextError) as exc:
            if isinstance(exc, FulltextError) and not exc.transient:
                raise
            self.hosts.spend(host, time.monotonic() - self.started)
            failure = connection_failure(exc)
            if failure is not None:
                self.hosts.give_up(host, failure)
            reason = self.hosts.reason(host)
            if reason is None:
                raise FulltextError(str(exc), transient=True) from exc
            said = f"{self.origin}: {failure}" if failure else f"{exc} ({reason})"
            raise HostUnreachable(
                f"{said}; {host} is not asked again in this run", host=host, reason=reason, asked=True
            ) from exc
        finally:
            self._last_request = time.monotonic()
