"""What a provider gate reads of a request and a response, and the body that frees its slot when read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx


class Releasing(httpx.AsyncByteStream):
    """A response body that frees the gate's slot once it has been read or closed."""

    def __init__(self, stream: Any, release: Any) -> None:
        self._stream, self._release = stream, release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


def max_tokens(request: httpx.Request) -> int:
    """Return the output cap a chat request asks for (`max_tokens` or `max_completion_tokens`), or 0."""
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return 0
    extra = body.get("max_tokens") or body.get("max_completion_tokens") or 0
    return int(extra) if isinstance(extra, int | float) else 0


def error_said(response: httpx.Response) -> str:
    """Return ": <the provider's error message>" from an error body (OpenAI's shape or text), or ""."""
    try:
        body = response.json()
        message = body["error"]["message"] if isinstance(body.get("error"), dict) else body.get("error")
    except (ValueError, AttributeError, KeyError, TypeError):
        message = response.text
    text = " ".join(str(message or "").split())[:200]
    return f": {text}" if text else ""
