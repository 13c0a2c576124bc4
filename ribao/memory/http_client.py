"""Chroma's sync HTTP client with a bound on every request (Chroma's own waits for ever).

`chromadb.HttpClient` builds an `httpx.Client(timeout=None)` and sends a request while it is being
built, so a server that accepts a connection and never answers held `ribao memory …` and `store
migrate --memory-url` for ever. Chroma takes no timeout and no API class of ours, so `bounded_client`
asks the server's heartbeat within the bound first, then bounds the built client's session.
"""

from __future__ import annotations

from typing import Any

import httpx


def bounded_client(host: str, port: int, ssl: bool, settings: Any, timeout_s: float) -> Any:
    """Return a Chroma client of the server at `host`:`port` whose requests each take at most
    `timeout_s` seconds (`httpx.TimeoutException` past it); a server that does not answer its heartbeat
    within that raises before the client is built."""
    import chromadb

    api = settings.chroma_server_api_default_path  # an enum of "/api/v2"
    heartbeat = f"{'https' if ssl else 'http'}://{host}:{port}{getattr(api, 'value', api)}/heartbeat"
    httpx.get(heartbeat, timeout=timeout_s).raise_for_status()
    client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
    session = client._server._session  # type: ignore[attr-defined]  # Chroma API over HTTP: one httpx.Client
    if not isinstance(session, httpx.Client):  # a Chroma that moved it: fail here, not hang later
        raise TypeError(f"cannot bound the Chroma client's requests: no httpx session ({type(session)})")
    session.timeout = httpx.Timeout(timeout_s)
    return client
