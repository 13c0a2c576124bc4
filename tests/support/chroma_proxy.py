"""A loopback HTTP proxy in front of a Chroma server that can turn faulty: answer 500s, or hang."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.support.loopback import LoopbackServer

Mode = Literal["pass", "fail", "hang"]


class ChromaProxy:
    """Forward every request to the Chroma server on `port` while `mode` is "pass"; answer 500 with a
    long HTML body when "fail"; hold the request unanswered when "hang" (until `close`)."""

    def __init__(self, port: int) -> None:
        self.mode: Mode = "pass"
        self.faulted: list[str] = []  # "METHOD path" of each request met with a fault
        self.released = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.mode != "pass":
                    proxy.faulted.append(f"{self.command} {self.path}")
                if proxy.mode == "hang":
                    proxy.released.wait()
                    self.close_connection = True
                    return
                if proxy.mode == "fail":
                    self._answer(500, b"<html><body>" + b"Internal Server Error " * 200 + b"</body></html>",
                                 "text/html")  # fmt: skip
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                try:
                    hop = ("host", "connection")
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    self._answer(answer.status, answer.read(), answer.getheader("Content-Type", "text/plain"))
                finally:
                    upstream.close()

            def _answer(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = LoopbackServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Release any held request and stop the proxy."""
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ChromaProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
