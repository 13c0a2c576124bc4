"""A loopback server answering arXiv's full-text paths (/html/, /pdf/, /e-print/) from real files.

`routes` maps a path (``/html/2501.11120v1``) to bytes, or to a fault: ``{"status": 503}``,
``{"hang": seconds}`` (accept, answer nothing), ``{"length": n}`` (claim a Content-Length of n).
Any other path answers 404. Every request path is recorded in `hits`; `on_request(path)`, when set, is
called before the answer (a `LoopProbe`'s check).
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.support.loopback import LoopbackServer

DATA = Path(__file__).parent.parent / "data" / "fulltext"
SHARED = Path("/work/shared/data/fulltext")


def unflatten(flat: str) -> dict[str, bytes]:
    """Split a flattened toplevel .tex back into the e-print's files (``%%% flatten`` markers)."""
    files: dict[str, bytes] = {}
    pattern = re.compile(
        r"%%% flatten: begin \\input\{(?P<name>[^}]+)\}\n(?P<body>.*?)"
        r"%%% flatten: end \\input\{(?P=name)\}\n",
        re.S,
    )

    def split(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group("name")
            files[name if name.endswith(".tex") else f"{name}.tex"] = split(m.group("body")).encode()
            return f"\\input{{{name}}}\n"

        return pattern.sub(one, text)

    files["emnlp2020.tex"] = split(flat).encode()
    return files


def tar_gz(files: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    """Pack `files` (and symlinks `links`: name → target) as a gzip'd tar, names taken verbatim."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return gzip.compress(buf.getvalue())


def scifact_eprint() -> bytes:
    """The SciFact e-print as arXiv serves it: its files in a gzip'd tar."""
    return tar_gz(unflatten((DATA / "2004.14974.tex").read_text(encoding="utf-8")))


def arxiv_routes() -> dict[str, Any]:
    """The real papers at their arXiv paths: one HTML, one PDF-only, one LaTeX-only paper."""
    return {
        "/html/2501.11120v1": (DATA / "2501.11120v1.html").read_bytes(),
        "/pdf/2501.10120v1": (DATA / "2501.10120v1.pdf").read_bytes(),
        "/e-print/2004.14974v1": scifact_eprint(),
    }


class FulltextServer:
    """The server; `base` is ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.hits: list[str] = []
        self.on_request: Callable[[str], None] | None = None  # called with the path before answering
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.hits.append(self.path)
                if outer.on_request is not None:
                    outer.on_request(self.path)
                route = outer.routes.get(self.path)
                if isinstance(route, dict) and "hang" in route:
                    time.sleep(route["hang"])
                    return
                if isinstance(route, dict) and "length" in route:
                    self.send_response(200)
                    self.send_header("Content-Length", str(route["length"]))
                    self.end_headers()
                    return
                if isinstance(route, dict):
                    self.send_response(route.get("status", 500))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route is None:
                    body = b"<html><body>No HTML for this paper</body></html>"
                    self.send_response(404)
                else:
                    body = route
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = LoopbackServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # serve_forever polls for shutdown every 0.5 s by default: each close would wait for it.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def options(self, **overrides: Any) -> dict[str, Any]:
        """Return `[fulltext]` settings pointing at this server, fast and without pacing."""
        return {
            "enabled": True,
            "html_endpoint": f"{self.base}/html/",
            "pdf_endpoint": f"{self.base}/pdf/",
            "source_endpoint": f"{self.base}/e-print/",
            "delay_seconds": 0.0,
            "backoff_seconds": 0.0,
            "retries": 0,
            "timeout_seconds": 5.0,
            **overrides,
        }

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fulltext_server() -> Iterator[FulltextServer]:
    server = FulltextServer()
    server.routes.update(arxiv_routes())
    yield server
    server.close()
