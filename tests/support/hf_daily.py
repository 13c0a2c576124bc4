"""A loopback Hugging Face Daily Papers API replaying the captured days in tests/data/hf-daily/.

`GET /api/daily_papers?date=D` answers the API's shape (a JSON list, the paper under ``paper``)
built from the captured `<D>.json`; a day without a file answers ``[]``, as the API does for a day
nothing was featured on. `fail_first` answers HTTP 503 to that many requests first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.loopback import LoopbackServer

DATA = Path(__file__).resolve().parent.parent / "data" / "hf-daily"


def api_items(day: str) -> list[dict[str, Any]]:
    """Return the API's answer for `day` built from the captured file (empty when there is none)."""
    path = DATA / f"{day}.json"
    if not path.is_file():
        return []
    papers = json.loads(path.read_text(encoding="utf-8"))["papers"]
    return [
        {
            "paper": {"id": p["paper_id"], "title": p["title"], "upvotes": p["upvotes"], "authors": []},
            "title": p["title"],
            "publishedAt": f"{day}T00:00:00.000Z",
            "numComments": 0,
        }
        for p in papers
    ]


class HFDaily:
    """The stub server: `requests` records each asked date; `fail_first` 503s come first."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.fail_first = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                day = parse_qs(url.query).get("date", [""])[0]
                stub.requests.append(day)
                if stub.fail_first > 0:
                    stub.fail_first -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(api_items(day)).encode()
                self.send_response(200 if url.path == "/api/daily_papers" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}/api/daily_papers"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def hf_daily() -> Iterator[HFDaily]:
    stub = HFDaily()
    yield stub
    stub.server.shutdown()
