"""Send a written digest to its push channels through Apprise: retried with backoff, never raising.

Each channel yields a `DeliveryRecord` (ok or failed, with the reason); secrets expanded from the
URL's ``${VAR}`` are masked in every reason. Blocking (Apprise is synchronous): call it off the
event loop.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ribao.delivery.channels import PushChannel, expand, with_timeouts
from ribao.delivery.render import Message, render_for
from ribao.errors import ConfigError
from ribao.masking import scrub
from ribao.record import DigestPaths, DigestRecord, read_record
from ribao.schemas import DeliveryRecord


def _scrub(text: str, secrets: list[str]) -> str:
    """Mask the values expanded from the URL's variables, however short: they are secrets by declaration."""
    return scrub(text, secrets, min_length=1)


class _Refused(Exception):
    """One attempt failed (Apprise returned False); the message is the reason Apprise gave."""


class _Log(logging.Handler):
    """Keep the messages (not the formatted records) Apprise logs during one attempt."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# The low-level cause Apprise logs at debug level: "[Errno 111] Connection refused", a read timeout.
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"')\]]+)")
_READ_TIMEOUT = re.compile(r"Read timed out\. \(read timeout=([\d.]+)\)")


def reason(records: list[logging.LogRecord]) -> str:
    """Return why Apprise failed, in one line: its warnings, then the socket-level cause when it logged one.

    E.g. ``A Connection error occurred sending JSON notification to 127.0.0.1: Connection refused``.
    """
    said = [r.getMessage().strip().rstrip(".") for r in records if r.levelno >= logging.WARNING]
    for r in records:
        text = r.getMessage()
        if r.levelno < logging.WARNING and text.startswith("Socket Exception:"):
            errno, timeout = _ERRNO.search(text), _READ_TIMEOUT.search(text)
            if errno:
                said.append(errno.group(1).strip())
            elif timeout:
                said.append(f"no answer within {timeout.group(1)} s")
            else:
                said.append(text.removeprefix("Socket Exception:").strip())
    return " ".join(": ".join(dict.fromkeys(said)).split()) or "the service refused the message"


@dataclass
class DigestFiles:
    """A written digest: its record (read back from `<date>.json`), Markdown and HTML page texts."""

    record: DigestRecord
    markdown: str
    html: str

    @classmethod
    def read(cls, json_path: Path) -> DigestFiles:
        """Read `<date>.json` and the `.md` and `.html` beside it; raises `ConfigError` if one is missing."""
        paths = DigestPaths.of(json_path.parent, json_path.stem)
        try:
            return cls(
                record=read_record(paths.json),
                markdown=paths.markdown.read_text(encoding="utf-8"),
                html=paths.html.read_text(encoding="utf-8"),
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the written digest {json_path}: {exc}") from exc


def _attempt(url: str, msg: Message, body_format: str, secrets: list[str]) -> None:
    import apprise  # 0.1 s of imports, paid only by a run that has a channel to send to

    obj = apprise.Apprise()
    if not obj.add(url):
        raise ConfigError("Apprise does not accept this URL")
    log, logger = _Log(), logging.getLogger("apprise")
    level = logger.level
    logger.addHandler(log)
    logger.setLevel(logging.DEBUG)  # the socket-level cause (refused, timed out) is a debug record
    try:
        for part in msg.parts:
            title = (
                msg.title
                if len(msg.parts) == 1
                else f"{msg.title} ({msg.parts.index(part) + 1}/{len(msg.parts)})"
            )
            log.records.clear()
            if not obj.notify(body=part, title=title, body_format=body_format):
                raise _Refused(_scrub(reason(log.records), secrets)[:300])
    finally:
        logger.removeHandler(log)
        logger.setLevel(level)


def send_channel(
    channel: PushChannel,
    files: DigestFiles,
    *,
    site_url: str | None,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    timeout_seconds: float = 10.0,
) -> DeliveryRecord:
    """Render the digest for `channel` and send it; retry `retries` times with exponential backoff
    (`backoff_seconds`, doubling, at most 60 s). Returns the record; never raises for a failed send."""
    spec = channel.spec
    msg = render_for(spec, channel.scheme, record=files.record, markdown=files.markdown, html=files.html,
                     site_url=site_url)  # fmt: skip
    base = DeliveryRecord(
        channel=channel.name, scheme=channel.scheme, format=spec.format, status="failed",
        parts=len(msg.parts), bytes=sum(msg.sizes), cut=msg.cut, attempts=0,
    )  # fmt: skip
    try:
        url, secrets = expand(channel.url)
    except ConfigError as exc:
        return base.model_copy(update={"error": str(exc)})
    url = with_timeouts(url, timeout_seconds, spec.apprise_format)
    attempts = 0
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(retries + 1),
            wait=wait_exponential(multiplier=backoff_seconds, max=60),
            retry=retry_if_exception_type(_Refused),
            reraise=True,
        ):
            with attempt:
                attempts = attempt.retry_state.attempt_number
                _attempt(url, msg, spec.apprise_format, secrets)
    except (_Refused, ConfigError) as exc:
        return base.model_copy(update={"attempts": attempts, "error": _scrub(str(exc), secrets)})
    return base.model_copy(update={"status": "ok", "attempts": attempts})


def deliver(
    channels: list[PushChannel],
    files: DigestFiles,
    *,
    site_url: str | None,
    retries: int = 3,
    backoff_seconds: float = 2.0,
    timeout_seconds: float = 10.0,
) -> list[DeliveryRecord]:
    """Send the digest to each of `channels` in order; one `DeliveryRecord` per channel."""
    return [
        send_channel(c, files, site_url=site_url, retries=retries, backoff_seconds=backoff_seconds,
                     timeout_seconds=timeout_seconds)
        for c in channels
    ]  # fmt: skip
