"""Read an announcement day through the arXiv API with the `arxiv` package, politely and with timeouts.

The API has no "listing of day D" query. ribao asks for the submissions of D's window
(`calendar.submission_window`) in the requested categories, which approximates the listing:
cross-lists of older papers are missed, papers held in moderation show up on the wrong day, and
replacements (a new version of a paper first submitted before the window) are dropped here.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterable, Sequence
from typing import Any

import arxiv
import requests
from pydantic import BaseModel, ConfigDict, Field
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)
from tenacity.stop import stop_base

from ribao.errors import ListingError, ListingUnavailable, NoAnnouncement
from ribao.schemas import Paper
from ribao.sources import atom
from ribao.sources.calendar import submission_window
from ribao.sources.records import build_paper, check_categories, dedupe, select

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiOptions(BaseModel):
    """How ribao talks to the arXiv API; the defaults follow arXiv's terms (one request per 3 s)."""

    model_config = ConfigDict(frozen=True)

    endpoint: str = Field(default="https://export.arxiv.org/api/query", description="Query endpoint URL")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Connect and read timeout per request")
    delay_seconds: float = Field(default=3.0, ge=0, description="Least time between two requests")
    retries: int = Field(default=3, ge=0, description="Retries after a timeout, connection error, 429 or 5xx")
    backoff_seconds: float = Field(
        default=3.0, ge=0, description="First backoff without Retry-After; doubles"
    )
    max_wait_seconds: float = Field(
        default=120.0, gt=0, description="Longest wait; a longer Retry-After gives up"
    )
    page_size: int = Field(default=1000, ge=1, le=2000, description="Results per request (API limit 2000)")
    max_results: int = Field(
        default=5000, ge=1, description="Most submissions a day may have; more is an error"
    )


def retry_after_seconds(response: requests.Response) -> float | None:
    """Return the response's Retry-After in seconds (delta or HTTP date), or None if absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _response_of(state: RetryCallState) -> requests.Response | None:
    """Return the response of the attempt that just ended, None if it raised."""
    if state.outcome is None or state.outcome.failed:
        return None
    return state.outcome.result()


class stop_when_retry_after_exceeds(stop_base):  # noqa: N801 - named like tenacity's own stops
    """Stop retrying when the server's Retry-After is longer than ``limit`` seconds: give up, don't hammer."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        response = _response_of(retry_state)
        asked = retry_after_seconds(response) if response is not None else None
        return asked is not None and asked > self.limit


class ApiSession(requests.Session):
    """A requests session for the arxiv client: a timeout on every request, tenacity retries, checks.

    Retries cover timeouts, connection errors and HTTP 429/5xx; the wait is the server's
    Retry-After when given, else ``backoff_seconds`` doubling, never less than ``delay_seconds``.
    After the last try it raises ListingUnavailable naming the endpoint; a 4xx answer, arXiv's
    error feed or malformed XML raise ListingError, before the arxiv package's lenient parser
    could turn them into an empty result.
    """

    def __init__(self, options: ApiOptions) -> None:
        super().__init__()
        # Not `self.options`: that is requests.Session's HTTP OPTIONS method.
        self.api_options = options
        self._retrying = Retrying(
            retry=retry_if_exception_type((requests.Timeout, requests.ConnectionError))
            | retry_if_result(lambda response: response.status_code in RETRY_STATUSES),
            wait=self._wait,
            stop=stop_after_attempt(options.retries + 1)
            | stop_when_retry_after_exceeds(options.max_wait_seconds),
            reraise=False,
        )

    def _wait(self, state: RetryCallState) -> float:
        """Return the seconds to wait before the next try."""
        response = _response_of(state)
        asked = retry_after_seconds(response) if response is not None else None
        backoff = self.api_options.backoff_seconds * 2 ** (state.attempt_number - 1)
        wait = asked if asked is not None else backoff
        return min(max(wait, self.api_options.delay_seconds), self.api_options.max_wait_seconds)

    def _unavailable(self, err: RetryError) -> ListingUnavailable:
        """Return the error that says why the endpoint gave no usable answer on any try."""
        last = err.last_attempt
        tries = last.attempt_number
        if last.failed:
            problem = last.exception()
            what = type(problem).__name__
            if isinstance(problem, requests.Timeout):
                what += f" (no answer within {self.api_options.timeout_seconds:g} s)"
        else:
            response = last.result()
            what = f"HTTP {response.status_code}"
            asked = retry_after_seconds(response)
            if asked is not None and asked > self.api_options.max_wait_seconds:
                limit = self.api_options.max_wait_seconds
                what += f", Retry-After {asked:g} s is longer than max_wait_seconds={limit:g}"
        return ListingUnavailable(
            f"arXiv API at {self.api_options.endpoint} unavailable after {tries} tries: {what}"
        )

    def _check(self, response: requests.Response) -> requests.Response:
        """Return ``response`` if it is a usable Atom feed; raise ListingError or ListingUnavailable."""
        endpoint = self.api_options.endpoint
        if response.status_code == requests.codes.ok:
            atom.check_feed(response.content, f"arXiv API at {endpoint}")
            return response
        if 400 <= response.status_code < 500:
            message = atom.error_message(response.content) or response.reason
            raise ListingError(
                f"arXiv API at {endpoint} rejected the query (HTTP {response.status_code}): {message}"
            )
        raise ListingUnavailable(f"arXiv API at {endpoint} answered HTTP {response.status_code}")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send one request with the default timeout and the retry policy; return a checked response."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.api_options.timeout_seconds
        try:
            response = self._retrying(super().request, method, url, *args, **kwargs)
        except RetryError as err:
            raise self._unavailable(err) from err
        except requests.RequestException as err:
            raise ListingUnavailable(
                f"arXiv API at {self.api_options.endpoint}: {type(err).__name__}: {err}"
            ) from err
        return self._check(response)


def make_client(options: ApiOptions, page_size: int) -> arxiv.Client:
    """Return an arxiv client aimed at ``options.endpoint``, using `ApiSession`, not retrying itself."""
    # Retries live in the session (tenacity); the client's own would multiply the tries.
    client = arxiv.Client(page_size=page_size, delay_seconds=options.delay_seconds, num_retries=0)
    client.query_url_format = options.endpoint.replace("{", "{{").replace("}", "}}") + "?{}"
    client._session = ApiSession(options)
    return client


def build_query(categories: Sequence[str], start: dt.datetime, end: dt.datetime) -> str:
    """Return the API query for submissions in ``categories`` between two UTC instants.

    arXiv's ``submittedDate`` takes ``YYYYMMDDHHMM`` in GMT, to the minute, both ends included;
    the exact half-open window is applied again to the results.
    """
    cats = " OR ".join(f"cat:{code}" for code in categories)
    return f"({cats}) AND submittedDate:[{start:%Y%m%d%H%M} TO {end:%Y%m%d%H%M}]"


def _to_paper(result: arxiv.Result, day: dt.date) -> Paper:
    """Return the `Paper` of one arxiv result, dated with the announcement day."""
    return build_paper(
        raw_id=result.entry_id,
        title=result.title,
        authors=[author.name for author in result.authors],
        abstract=result.summary,
        categories=result.categories,
        primary_category=result.primary_category,
        comment=result.comment,
        published=result.published,
        announced=day,
    )


def fetch_day(
    day: dt.date,
    categories: Sequence[str],
    *,
    include_cross_lists: bool = True,
    options: ApiOptions | None = None,
    holidays: Iterable[dt.date] = (),
) -> list[Paper]:
    """Return the new submissions of announcement day ``day`` in ``categories``, oldest first.

    Papers whose first version (``published``) is outside the window are dropped: those before
    it are replacements. Raises NoAnnouncement for a date without a listing (no request made),
    ListingUnavailable when the endpoint stays down, ListingError for a rejected query, a
    malformed answer, or more than ``options.max_results`` submissions.
    """
    options = options or ApiOptions()
    cats = check_categories(categories)
    try:
        start, end = submission_window(day, holidays)
    except ValueError as err:
        raise NoAnnouncement(str(err)) from err
    search = arxiv.Search(
        query=build_query(cats, start, end),
        max_results=options.max_results + 1,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )
    client = make_client(options, page_size=min(options.page_size, options.max_results + 1))
    try:
        results = list(client.results(search))
    except arxiv.ArxivError as err:  # e.g. an empty page in the middle of paging
        raise ListingUnavailable(f"arXiv API at {options.endpoint}: {err}") from err
    finally:
        client._session.close()
    if len(results) > options.max_results:
        raise ListingError(
            f"arXiv API at {options.endpoint}: more than {options.max_results} submissions for {day}; "
            "raise max_results if that is right"
        )
    try:
        papers = [_to_paper(r, day) for r in results if start <= r.published < end]
    except ValueError as err:
        raise ListingError(f"arXiv API at {options.endpoint}: unusable entry: {err}") from err
    return select(dedupe(papers), cats, include_cross_lists=include_cross_lists)
