"""Build OpenAI-compatible chat models (`ChatOpenAI`) from a `ModelConfig`."""

from __future__ import annotations

import functools
import ipaddress
import os
import ssl
import urllib.request
from typing import Any, Literal
from urllib.parse import urlsplit

import openai
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from ribao.errors import ConfigError
from ribao.llm.config import ModelConfig
from ribao.llm.gates import GatedTransport
from ribao.llm.limits import Limits

# Sent to endpoints that need no key (the local llama.cpp server, a keyless vLLM or Ollama); the
# openai client refuses to start without some key.
_NO_KEY = "not-needed"


def make_chat_model(cfg: ModelConfig) -> ChatOpenAI:
    """Return a `ChatOpenAI` for `cfg`; raises `ConfigError` when the key's env var is unset.

    Limits and retries (async calls, which is every agent's): every request goes through the
    provider's `ProviderGate` (`ribao.llm.limits`): `cfg.max_concurrency` in flight, optional
    requests/tokens per minute, retries on what can heal (429, 5xx, timeouts) for
    `cfg.retry_seconds` after a request's first failure with one backoff shared by all tasks of the
    provider (`Retry-After` honoured), and a breaker that fails every call at once with
    `ProviderDown` once the provider cannot be reached (`cfg.breaker_threshold` refused connections
    in a row) or has not answered for the whole budget. The openai client's own retries are off.
    `cfg.timeout` is per HTTP attempt, in seconds.

    Local (`cfg.local`): the key is a dummy (a real key in the env is never sent to the loopback
    server) and the output cap goes in `extra_body={"max_tokens": n}`, because llama-cpp-python
    0.3.36 ignores the `max_completion_tokens` field ChatOpenAI sends for `max_tokens`.
    `stream_usage=True` asks for a usage chunk when streaming; llama.cpp never sends one.
    A loopback `base_url` ignores proxy env vars (see `is_loopback`).
    """
    kwargs: dict[str, Any] = {
        "model": cfg.model,
        "base_url": cfg.base_url,
        "api_key": SecretStr(_api_key(cfg)),
        "timeout": cfg.timeout,
        "max_retries": 0,  # the gate retries, with a backoff shared by the provider's tasks
        "temperature": cfg.temperature,
        "stream_usage": True,
    }
    if cfg.local:
        kwargs["extra_body"] = {"max_tokens": cfg.max_tokens}
    else:
        kwargs["max_tokens"] = cfg.max_tokens
    loopback = is_loopback(cfg.base_url)
    if loopback:
        # An HTTP(S)_PROXY in the env would otherwise route 127.0.0.1 through the proxy (httpx
        # bypasses it only when NO_PROXY says so), and the local server becomes unreachable.
        kwargs["http_client"] = _loopback_clients()[0]
        kwargs["http_socket_options"] = ()  # keepalive tuning is moot on loopback; avoids a proxy warning
    kwargs["http_async_client"] = _gated_client(cfg.provider_key, Limits.from_config(cfg), loopback)
    return ChatOpenAI(**kwargs)


@functools.cache
def _gated_client(provider: str, limits: Limits, loopback: bool) -> Any:
    """One async HTTP client per provider whose transport is the provider's gate.

    On loopback it ignores proxy env vars and keeps no idle connections: a pooled connection is
    bound to the event loop that opened it and breaks the next `asyncio.run` ("Event loop is
    closed"); on loopback a fresh connection costs well under a millisecond.
    """
    import httpx2 as httpx

    pool = httpx.Limits(max_connections=100, max_keepalive_connections=0 if loopback else 20)
    # A custom transport bypasses httpx's env proxy lookup, so the HTTPS proxy is passed explicitly.
    proxy = None if loopback else urllib.request.getproxies().get("https")
    inner = httpx.AsyncHTTPTransport(
        limits=pool, trust_env=not loopback, proxy=proxy, verify=_tls_context(not loopback)
    )
    return openai.DefaultAsyncHttpxClient(
        transport=GatedTransport(provider, limits, inner), trust_env=not loopback
    )


@functools.cache
def _loopback_clients() -> tuple[Any, Any]:
    """A shared sync and async HTTP client that ignore proxy env vars.

    Shared because per-model clients leak sockets until garbage collection (langchain-openai
    shares its defaults too). The async one keeps no idle connections: a pooled connection is
    bound to the event loop that opened it and breaks the next `asyncio.run` ("Event loop is
    closed"); on loopback a fresh connection costs well under a millisecond.
    """
    try:
        import httpx2 as httpx  # what openai>=3 uses
    except ImportError:  # pragma: no cover - openai<3
        import httpx  # type: ignore[no-redef]
    no_keepalive = httpx.Limits(max_connections=100, max_keepalive_connections=0)
    return (
        openai.DefaultHttpxClient(trust_env=False, verify=_tls_context(False)),
        openai.DefaultAsyncHttpxClient(trust_env=False, limits=no_keepalive, verify=_tls_context(False)),
    )


@functools.cache
def _tls_context(trust_env: bool) -> ssl.SSLContext:
    """The TLS settings every client ribao builds shares (httpx's default, with `SSL_CERT_*` if `trust_env`).

    Shared because each client would otherwise load the CA bundle again: ~25 ms of CPU apiece.
    """
    try:
        import httpx2 as httpx
    except ImportError:  # pragma: no cover - openai<3
        import httpx  # type: ignore[no-redef]
    return httpx.create_ssl_context(trust_env=trust_env)


def is_loopback(base_url: str | None) -> bool:
    """True if `base_url` points at this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(base_url).hostname if base_url else None
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: The `with_structured_output` method for every provider: always forced function calling.
# Why not `json_schema`: llama-cpp-python 0.3.36 answers it with HTTP 500 (its `response_format`
# accepts only `text` and `json_object`), and several OpenAI-compatible providers (DeepSeek among
# them) offer only `json_object`, which carries no schema. Forced function calling (`tools` plus
# `tool_choice` naming the schema) is accepted by OpenAI, DeepSeek, Qwen, GLM, Kimi, vLLM and
# llama.cpp; llama.cpp even compiles the tool's parameters into a grammar, so enum and `Literal`
# values are enforced while decoding. Reasoning-only models that reject a forced `tool_choice`
# (e.g. deepseek-reasoner) need another model for structured agents.
STRUCTURED_OUTPUT_METHOD: Literal["function_calling"] = "function_calling"


def _api_key(cfg: ModelConfig) -> str:
    """Return the API key named by `cfg.api_key_env`, or the dummy key when none is needed."""
    if cfg.local or cfg.api_key_env is None:
        return _NO_KEY
    key = os.environ.get(cfg.api_key_env, "").strip()
    if not key:
        where = cfg.base_url or "https://api.openai.com/v1"
        raise ConfigError(
            f"model {cfg.model!r} at {where} needs an API key: set the environment variable "
            f"{cfg.api_key_env} (it is read from the environment, never from config files)"
        )
    return key
