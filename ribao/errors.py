"""Typed errors: each names what was expected and what came, so the CLI can print one clear line."""


class RibaoError(Exception):
    """Base class of every error ribao raises on purpose; the CLI prints it and exits non-zero."""

    exit_code = 1


class ListingError(RibaoError):
    """A listing could not be read: a malformed file or feed, or an unknown source."""


class ListingUnavailable(RibaoError):
    """The arXiv endpoint stayed down (timeout, HTTP 429/5xx) after the retries; names the endpoint."""


class NoAnnouncement(RibaoError):
    """The date has no arXiv announcement (weekend, holiday, or an empty listing)."""

    exit_code = 3


class ListingNotIndexed(RibaoError):
    """The arXiv API answered nothing for a past announcement day: its index may lag the announcement.

    Not "no announcement" (only the calendar or a listing feed dated that day may say that); a
    later retry may succeed, so it has its own exit status.
    """

    exit_code = 4


class MissingSummary(RibaoError):
    """A pick reached the editor without a summary; the digest is not written rather than shorter."""


class NothingToScreen(RibaoError):
    """Every candidate of the day was featured in an earlier digest: there is nothing left to pick."""


class RunTooLong(RibaoError):
    """The graph hit LangGraph's recursion limit (more steps than the critic cap allows)."""


class LLMOutputError(RibaoError):
    """An agent's reply kept breaking its schema or the code-side checks after every retry.

    `calls` holds the record of every failed attempt, so the run log can show what came back.
    """

    def __init__(self, message: str, calls: object = ()) -> None:
        super().__init__(message)
        self.calls = list(calls)  # type: ignore[call-overload]


class ProviderError(RibaoError):
    """The LLM provider failed after the client's own retries (connection, 429/5xx, auth, bad request)."""


class LocalModelError(RibaoError):
    """The local llama.cpp server could not be started or did not answer."""


class MemoryStoreError(RibaoError):
    """The Chroma memory is unusable, e.g. built with another embedder than the configured one."""


class ConfigError(RibaoError):
    """A setting is missing or invalid (unknown provider, missing API key variable, bad file)."""


class BadFlag(ConfigError):
    """A command-line flag's value is out of its setting's range (``--must-read -1``): a usage error."""

    exit_code = 2


class FulltextError(RibaoError):
    """One full-text source of a paper could not be fetched or read; the writer falls back to the next.

    `transient` is True for a source that was down or silent (worth asking again on a later run).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class SourceMissing(FulltextError):
    """The server answered 4xx for one full-text source: this paper has no such source (kept for the day)."""


class HostUnreachable(FulltextError):
    """A full-text host is not asked again in this run: it failed at the connection level (name not
    resolved, connection refused, TLS failure) or stayed down past its retry budget.

    `host` is the URL's ``host[:port]``, `reason` why it was given up; `asked` is False for a source
    that was skipped without a request. Transient: the next run asks again.
    """

    def __init__(self, message: str, *, host: str, reason: str, asked: bool) -> None:
        super().__init__(message, transient=True)
        self.host = host
        self.reason = reason
        self.asked = asked


class PushFailed(RibaoError):
    """The digest was written, but one or more push channels failed after their retries."""

    exit_code = 5
