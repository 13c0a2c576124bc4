"""Scriptable OpenAI-compatible stub server on 127.0.0.1 for offline tests of the HTTP path.

Serves `GET /v1/models` and `POST /v1/chat/completions` (plain JSON, or SSE when the request has
`"stream": true`, with a usage chunk when `stream_options.include_usage` is set). Each chat request
takes the next scripted reply from a queue:

- `{"tool": "Name", "args": {...}}`: one tool call (what forced function calling returns);
- `{"text": "..."}` or a plain string: an assistant message;
- `{"status": 429, "headers": {"Retry-After": "1"}, "body": {...}}`: an HTTP fault;
- `{"hang": 5.0}`: accept the request and answer nothing for that many seconds (client timeout);
- `{"raw": "{\"id\": \"chat"}`: HTTP 200 with that body as is (a reply body cut in half).

`Burst` is a responder for a burst of 5xx lasting some seconds; `closed_port_url()` a provider
that refuses connections.

Replies may carry `"usage": {"prompt_tokens": 12, "completion_tokens": 5, "cached_tokens": 3}`.
Every request is recorded (path, headers, JSON body, arrival time) for assertions. An empty queue
answers with `responder(body)` when one is set (for whole-graph runs), else HTTP 400 (not retried
by the openai client), so a test that under-scripts fails loudly.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.support.loopback import LoopbackServer

DEFAULT_USAGE = {"prompt_tokens": 11, "completion_tokens": 7}


_Server = LoopbackServer


@dataclass
class RecordedRequest:
    """One request as the stub received it: header names lower-cased, `at` = `time.monotonic()`."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)


class StubOpenAI:
    """The stub server; use as a context manager, then `script(...)` replies and read `requests`."""

    def __init__(self, model_id: str = "stub-model") -> None:
        self.model_id = model_id
        self.replies: deque[dict[str, Any]] = deque()
        self.responder: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.requests: list[RecordedRequest] = []
        self._released = threading.Event()
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in /v1."""
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Recorded `POST /v1/chat/completions` requests, oldest first."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def script(self, *replies: dict[str, Any] | str) -> None:
        """Append replies to the queue (see the module docstring for their shapes)."""
        for reply in replies:
            self.replies.append({"text": reply} if isinstance(reply, str) else dict(reply))

    def __enter__(self) -> StubOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()  # wake any hanging handler
        self._server.shutdown()
        self._server.server_close()


def _make_handler(stub: StubOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:
            stub.requests.append(RecordedRequest("GET", self.path, _headers(self), None))
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": stub.model_id, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            stub.requests.append(RecordedRequest("POST", self.path, _headers(self), body))
            if not self.path.endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            with stub.lock:
                reply = stub.replies.popleft() if stub.replies else None
            if reply is None and stub.responder is not None:
                reply = stub.responder(body)
            if reply is None:
                self._json(400, {"error": {"message": "stub: no scripted reply left"}})
                return
            if "hang" in reply:
                stub._released.wait(reply["hang"])
                self.close_connection = True
                return
            if "raw" in reply:
                data = reply["raw"].encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if "status" in reply:
                error = reply.get("body", {"error": {"message": f"stub fault {reply['status']}"}})
                self._json(reply["status"], error, reply.get("headers", {}))
                return
            message = _message(reply)
            usage = _usage(reply.get("usage", DEFAULT_USAGE))
            model = body.get("model", stub.model_id)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._sse(_chunks(message, usage if include_usage else None, model))
            else:
                finish = "tool_calls" if message.get("tool_calls") else "stop"
                self._json(200, _completion(message, usage, model, finish))

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _sse(self, chunks: list[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    return {name.lower(): value for name, value in handler.headers.items()}


def _message(reply: dict[str, Any]) -> dict[str, Any]:
    if "tool" in reply:
        call = {
            "id": f"call_{uuid.uuid4().hex[:8]}",
            "type": "function",
            "function": {"name": reply["tool"], "arguments": json.dumps(reply.get("args", {}))},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": reply.get("text", "")}


def _usage(spec: dict[str, int]) -> dict[str, Any]:
    prompt, completion = spec.get("prompt_tokens", 0), spec.get("completion_tokens", 0)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if "cached_tokens" in spec:
        usage["prompt_tokens_details"] = {"cached_tokens": spec["cached_tokens"]}
    return usage


def _completion(message: dict[str, Any], usage: dict[str, Any], model: str, finish: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def _chunks(message: dict[str, Any], usage: dict[str, Any] | None, model: str) -> list[dict[str, Any]]:
    def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"id": "chatcmpl-stream", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": choices, **extra}  # fmt: skip

    out = [chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])]
    if message.get("tool_calls"):
        calls = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
        out.append(chunk([{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": None}]))
        finish = "tool_calls"
    else:
        for piece in re.findall(r"\s*\S+", message["content"] or ""):
            out.append(chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}]))
        finish = "stop"
    out.append(chunk([{"index": 0, "delta": {}, "finish_reason": finish}]))
    if usage is not None:
        out.append(chunk([], usage=usage))
    return out


class Burst:
    """A responder: HTTP `status` to every request for `seconds` after the first one, then `then(body)`.

    A provider's burst of 5xx lasting a given time; `failed` counts the requests it refused and
    `healed` is the seconds from the first request to the first one answered after the burst.
    """

    def __init__(
        self, seconds: float, then: Callable[[dict[str, Any]], dict[str, Any]], status: int = 500
    ) -> None:
        self.seconds, self.then, self.status = seconds, then, status
        self.started: float | None = None
        self.failed = 0
        self.healed: float | None = None
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            now = time.monotonic()
            self.started = self.started or now
            if now - self.started < self.seconds:
                self.failed += 1
                return {"status": self.status, "body": {"error": {"message": "burst"}}}
            self.healed = self.healed or now - self.started
        return self.then(body)


def closed_port_url() -> str:
    """Return an OpenAI-style base URL on a loopback port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def openai_stub():
    """A running `StubOpenAI`; stopped after the test."""
    with StubOpenAI() as stub:
        yield stub
