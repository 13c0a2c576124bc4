"""A polite requests session for arXiv's endpoints: timeouts, tenacity retries, answer checks, recording."""

from __future__ import annotations

from typing import Any

import requests
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)
from tenacity.stop import stop_base

from ribao.errors import ListingError, ListingUnavailable
from ribao.http_faults import RETRY_STATUSES, retry_after_seconds
from ribao.settings_models import ApiOptions
from ribao.sources import atom
from ribao.sources.cache import Recording, request_key


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
    """A requests session for one arXiv endpoint: a timeout on every request, tenacity retries, checks.

    Retries cover timeouts, connection errors and `RETRY_STATUSES` (429, 5xx…); the wait is the server's
    Retry-After when given, else ``backoff_seconds`` doubling, never less than ``delay_seconds``.
    After the last try it raises ListingUnavailable naming ``origin`` (default: the API endpoint);
    a 4xx answer or a body that `check_body` refuses (here: arXiv's error feed, malformed XML)
    raise ListingError, before a lenient parser could turn them into an empty result. Each
    checked response goes to ``recording`` when one is given (see `cache`).
    """

    def __init__(
        self, options: ApiOptions, *, origin: str | None = None, recording: Recording | None = None
    ) -> None:
        super().__init__()
        # Not `self.options`: that is requests.Session's HTTP OPTIONS method.
        self.api_options = options
        self.origin = origin or f"arXiv API at {options.endpoint}"
        self.recording = recording
        self._retrying = Retrying(
            retry=retry_if_exception_type((requests.Timeout, requests.ConnectionError))
            | retry_if_result(lambda response: response.status_code in RETRY_STATUSES),
            wait=self._wait,
            stop=stop_after_attempt(options.retries + 1)
            | stop_when_retry_after_exceeds(options.max_wait_seconds),
            reraise=False,
        )

    def check_body(self, content: bytes) -> None:
        """Raise ListingError unless ``content`` is a usable answer: an Atom feed without an error entry."""
        atom.check_feed(content, self.origin)

    def read_body(self, response: requests.Response) -> bytes:
        """Return the body of a 200 answer (a subclass may stream it under a size cap)."""
        return response.content

    def rejection_message(self, content: bytes) -> str | None:
        """Return the endpoint's own explanation of a 4xx answer, if its body has one."""
        return atom.error_message(content)

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
        return ListingUnavailable(f"{self.origin} unavailable after {tries} tries: {what}")

    def _check(self, response: requests.Response) -> requests.Response:
        """Return ``response`` if its body is usable; raise ListingError or ListingUnavailable."""
        if response.status_code == requests.codes.ok:
            self.check_body(self.read_body(response))
            return response
        if 400 <= response.status_code < 500:
            message = self.rejection_message(response.content) or response.reason
            raise ListingError(f"{self.origin} rejected the query (HTTP {response.status_code}): {message}")
        raise ListingUnavailable(f"{self.origin} answered HTTP {response.status_code}")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send one request with the default timeout and the retry policy; return a checked response."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.api_options.timeout_seconds
        try:
            response = self._retrying(super().request, method, url, *args, **kwargs)
        except RetryError as err:
            raise self._unavailable(err) from err
        except requests.RequestException as err:
            raise ListingUnavailable(f"{self.origin}: {type(err).__name__}: {err}") from err
        checked = self._check(response)
        if self.recording is not None:
            self.recording.add(request_key(url, kwargs.get("params")), checked)
        return checked
