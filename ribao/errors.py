"""Typed errors: each names what was expected and what came, so the CLI can print one clear line."""

from __future__ import annotations

import datetime as dt


class RibaoError(Exception):
    """Base class of every error ribao raises on purpose; the CLI prints it and exits non-zero."""

    exit_code = 1
    #: The run (or day run) `ribao runs resume` continues after this error: set when the failed run
    #: has a checkpoint past its start; None when there is nothing to continue (it failed before).
    resume_id: str | None = None


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
    """The LLM provider failed: retries on what can heal ran out of time, or it refused the request."""


class ProviderDown(ProviderError):
    """The provider counts as down for the rest of the run: it cannot be reached (connection refused,
    unknown host, TLS failure), or no attempt of any task has succeeded for the whole retry budget.

    The message names the provider and its URL and says why, without the agent that noticed first.
    """


class OutputError(RibaoError):
    """The digest's output folder cannot be written: a file stands where it should be, or a write failed."""


class LocalModelError(RibaoError):
    """The local llama.cpp server could not be started or did not answer."""


class MemoryStoreError(RibaoError):
    """The Chroma memory is unusable, e.g. built with another embedder than the configured one."""


class FeedbackStoreError(RibaoError):
    """The feedback database cannot be opened or written (a read-only home, a server that refuses)."""


class NoMemory(RibaoError):
    """The memory was never written: no digest has been remembered in this home yet."""


class ConfigError(RibaoError):
    """A setting is missing or invalid (unknown provider, missing API key variable, bad file)."""


class BadFlag(ConfigError):
    """A command-line flag's value is out of its setting's range (``--must-read -1``): a usage error."""

    exit_code = 2


class LibraryError(ConfigError):
    """A profile's library export is missing or malformed (the message names the file and the line)."""


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


class ReplayError(RibaoError):
    """The run cannot be replayed for that agent: an unknown agent, no checkpoints, or the run
    never reached (or never finished) the agent's nodes."""


class SiteError(RibaoError):
    """No digest to build from, or a `<date>.json` cannot be read."""


class SiteFolderError(RibaoError):
    """The site's folder was refused: it is, holds or sits in the digests or home folder, is the
    current folder, or holds files the site did not write. A usage error (exit status 2)."""

    exit_code = 2


class SiteWriteError(RibaoError):
    """Writing or swapping in the new site failed; the old site is left as it was."""


class DigestNotFound(RibaoError):
    """No written digest for a day (or none at all): names where it was looked for."""


class RunLogError(RibaoError):
    """The run log database is unusable: unreadable, or written by a newer ribao (unknown migrations)."""


class StoreUnreachable(RibaoError):
    """The database of `store.url` cannot be reached or used (named without its password)."""


class LeaseLost(RibaoError):
    """A worker's connection to the database ended while it ran a job: the job stays unfinished."""


class WorkerStopped(RibaoError):
    """The worker was asked to stop (Ctrl-C, SIGTERM) while it ran a job: the job is queued again."""


class RunNotFound(RibaoError):
    """No run has this id or id prefix, or the prefix matches several runs (the message lists them).

    A usage error (exit status 2), as every name the user gives that names nothing."""

    exit_code = 2


class NoCheckpoint(RunNotFound):
    """The run is recorded but has no checkpoint to continue from: not a bad name, so exit status 1."""

    exit_code = 1


class FeedNotOfDay(ListingError):
    """The feed holds the listing of another day than the one asked for (``feed_day``)."""

    def __init__(self, message: str, feed_day: dt.date) -> None:
        super().__init__(message)
        self.feed_day = feed_day


class CacheMiss(LookupError):
    """The day's cache holds no usable answer to a request; the day must be read from arXiv."""


class ArchiveError(ValueError):
    """The e-print cannot be used: corrupt, too large once unpacked, or no TeX in it."""


class ExtractionFailed(Exception):
    """The extractor refused the file, ran past its deadline or hit its memory limit (message says which)."""


class ExportError(Exception):
    """The source model is missing or has other hashes, or the export folder is incomplete."""


class LoadCancelled(Exception):
    """The embedder's background load was cancelled before onnxruntime started building the session."""


class TraceExportFailed(RibaoError):
    """The OpenTelemetry collector could not be reached or did not accept a run's spans."""


class EvalNotFound(RibaoError):
    """No experiment (or pinned baseline) matches a reference, or a prefix matches several. A usage
    error (exit status 2)."""

    exit_code = 2


class EvalError(RibaoError):
    """An evaluation input is unusable: a malformed reference file (the line is named), a store that
    cannot be read, or a reference endpoint that failed."""
