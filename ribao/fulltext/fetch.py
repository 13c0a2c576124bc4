"""Download one full-text source (HTML, PDF or e-print) through the listing's polite HTTP session."""

from __future__ import annotations

import time

import requests

from ribao.errors import FulltextError, ListingError, ListingUnavailable
from ribao.fulltext.document import Kind
from ribao.fulltext.options import FulltextOptions
from ribao.sources.session import ApiOptions, ApiSession

LABELS: dict[str, str] = {"html": "arXiv HTML", "pdf": "arXiv PDF", "latex": "arXiv e-print"}


def source_url(options: FulltextOptions, kind: Kind, arxiv_id: str, version: int | None) -> str:
    """Return the URL of one source: the kind's endpoint + canonical id + ``vN`` when the version is known."""
    base = {"html": options.html_endpoint, "pdf": options.pdf_endpoint, "latex": options.source_endpoint}[
        kind
    ]
    return f"{base.rstrip('/')}/{arxiv_id}{f'v{version}' if version else ''}"


class FulltextSession(ApiSession):
    """The listing's `ApiSession` (timeouts, tenacity retries on timeouts/429/5xx, Retry-After) for
    arXiv's full-text paths, plus pacing across requests, a size cap and a whole-body deadline."""

    def __init__(self, options: FulltextOptions) -> None:
        super().__init__(
            ApiOptions(
                timeout_seconds=options.timeout_seconds,
                delay_seconds=options.delay_seconds,
                retries=options.retries,
                backoff_seconds=options.backoff_seconds,
            ),
            origin="arXiv full text",
        )
        self.fulltext = options
        self._last_request: float | None = None

    def check_body(self, content: bytes) -> None:
        """Refuse an empty answer (arXiv's body checks for Atom do not apply to papers)."""
        if not content:
            raise ListingError(f"{self.origin}: empty answer")

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

        Raises `FulltextError` naming the source and URL: a 4xx (e.g. 404, no HTML for this paper),
        the server down or silent after the retries, an empty, oversized or too slow body.
        """
        if self._last_request is not None:
            wait = self.fulltext.delay_seconds - (time.monotonic() - self._last_request)
            if wait > 0:
                time.sleep(wait)
        self.origin = f"{LABELS[kind]} at {url}"
        try:
            return self.get(url, stream=True).content
        except ListingError as exc:
            raise FulltextError(str(exc)) from exc
        except ListingUnavailable as exc:
            raise FulltextError(str(exc), transient=True) from exc
        finally:
            self._last_request = time.monotonic()
