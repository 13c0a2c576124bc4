"""Cache the raw arXiv responses of one announcement day and replay them without the network.

Layout: ``<cache_dir>/<D>/`` (``D`` = the announcement day, ISO) holds each response body in a file
named by a hash of its request URL, and ``manifest.json``::

    {"day": "2026-02-19", "route": "rss", "categories": ["cs.CL", "cs.AI", "cs.LG"],
     "written_at": "…", "responses": {"<request URL>": {"file": "<hash>.xml", "fetched_at": "…",
                                                        "status": 200, "sha256": "…"}}}

The cache works at the session level: `ApiSession` hands every checked response to a
`Recording`, which stays in memory until the whole day's fetch has succeeded and is then written
in one go, into a hidden temporary folder that is renamed into place. A failed fetch or a failed
write leaves no trace; a refresh replaces the day's listing at once and keeps the other files of
the folder (``stars.json``). A `ReplaySession` answers the same requests from the folder and never
opens a connection; a request it does not hold (other categories, endpoint or page size, a
missing or altered file) raises `CacheMiss`, and the caller reads the day from arXiv again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ribao.errors import CacheMiss, ListingError
from ribao.files import swap_folder

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def request_key(url: str | bytes, params: Any = None) -> str:
    """Return the URL a GET of ``url`` with ``params`` asks for, the same way requests encodes it."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url.decode() if isinstance(url, bytes) else url, params)
    return prepared.url or str(url)


def body_name(key: str) -> str:
    """Return the file name of the response body of request ``key`` (first 16 hex digits of SHA-256)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16] + ".xml"


@dataclass(frozen=True)
class Recorded:
    """One checked response, as received."""

    body: bytes
    status: int
    fetched_at: dt.datetime


class Recording:
    """The checked responses of one fetch, by request URL, kept in memory until the fetch succeeded."""

    def __init__(self) -> None:
        self.responses: dict[str, Recorded] = {}

    def add(self, key: str, response: requests.Response) -> None:
        """Keep ``response`` as the answer to request ``key`` (a later answer replaces an earlier one)."""
        self.responses[key] = Recorded(response.content, response.status_code, dt.datetime.now(dt.UTC))


class ReplaySession(requests.Session):
    """A requests session answering GETs from one day's cache; it never opens a connection."""

    def __init__(self, folder: Path, responses: dict[str, Any]) -> None:
        super().__init__()
        self.folder = folder
        self.responses = responses

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Return the cached answer to ``url``; raise CacheMiss if there is none or it is damaged."""
        key = request_key(url, kwargs.get("params"))
        entry = self.responses.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise CacheMiss(f"the cache in {self.folder} holds no response for {key}")
        path = self.folder / Path(entry["file"]).name
        try:
            body = path.read_bytes()
        except OSError as err:
            raise CacheMiss(f"cannot read cached response {path}: {err.strerror or err}") from err
        if entry.get("sha256") not in (None, hashlib.sha256(body).hexdigest()):
            raise CacheMiss(f"cached response {path} does not match its manifest checksum")
        response = requests.Response()
        response.status_code = int(entry.get("status", 200))
        response._content = body
        response.url = key
        response.encoding = "utf-8"
        return response


class DayCache:
    """The cached raw responses of one announcement day, in ``<root>/<day>/``."""

    def __init__(self, root: Path, day: dt.date) -> None:
        self.root = root
        self.day = day
        self.dir = root / day.isoformat()

    def manifest(self) -> dict[str, Any] | None:
        """Return the day's manifest, or None when no listing is cached (an unreadable one is ignored)."""
        path = self.dir / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            logger.warning("ignoring the unreadable arXiv cache manifest %s: %s", path, err)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("responses"), dict):
            logger.warning("ignoring the arXiv cache manifest %s: no responses in it", path)
            return None
        return data

    def route(self) -> str | None:
        """Return how the cached listing was read (``"rss"`` or ``"api"``), None if nothing is cached."""
        manifest = self.manifest()
        return str(manifest.get("route")) if manifest else None

    def replay(self, route: str) -> ReplaySession | None:
        """Return a session replaying the cached listing if it was read through ``route``, else None."""
        manifest = self.manifest()
        if manifest is None or manifest.get("route") != route:
            return None
        return ReplaySession(self.dir, manifest["responses"])

    def commit(self, recording: Recording, *, route: str, categories: Sequence[str]) -> None:
        """Make ``recording`` the day's cached listing, replacing any earlier one in one rename.

        Raises ListingError naming the folder if it cannot be written; no part of the new cache
        is left behind then.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{self.dir.name}.", suffix=".partial", dir=self.root))
        except OSError as err:
            raise ListingError(f"cannot write the arXiv cache in {self.root}: {err.strerror or err}") from err
        try:
            self._write(staging, recording, route, categories)
            self._keep_other_files(staging)
            self._swap(staging)
        except OSError as err:
            raise ListingError(
                f"cannot write the arXiv cache of {self.day} in {self.dir}: {err.strerror or err}"
            ) from err
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _write(self, staging: Path, recording: Recording, route: str, categories: Sequence[str]) -> None:
        """Write the bodies and, last, the manifest into ``staging``."""
        responses = {}
        for key, recorded in recording.responses.items():
            name = body_name(key)
            (staging / name).write_bytes(recorded.body)
            responses[key] = {
                "file": name,
                "fetched_at": recorded.fetched_at.isoformat(timespec="seconds"),
                "status": recorded.status,
                "sha256": hashlib.sha256(recorded.body).hexdigest(),
            }
        manifest = {
            "day": self.day.isoformat(),
            "route": route,
            "categories": list(categories),
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "responses": responses,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (staging / MANIFEST).write_text(text, encoding="utf-8")

    def _keep_other_files(self, staging: Path) -> None:
        """Copy the files of the day's folder that are not part of its cached listing into ``staging``."""
        if not self.dir.is_dir():
            return
        old = self.manifest() or {}
        owned = {MANIFEST} | {e.get("file") for e in old.get("responses", {}).values() if isinstance(e, dict)}
        for path in self.dir.iterdir():
            if path.is_file() and path.name not in owned and not (staging / path.name).exists():
                shutil.copy2(path, staging / path.name)

    def _swap(self, staging: Path) -> None:
        """Put ``staging`` in place of the day's folder; the old folder goes only once the new one is in."""
        retired = swap_folder(staging, self.dir)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
