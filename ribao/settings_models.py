"""The config models `Settings` is made of: an agent's model, the arXiv client, full text, push channels.

They live beside `Settings` (services layer, no I/O on import) so that loading the settings loads no
delivery, full-text or listing code; the subsystems import their model from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ribao.errors import ConfigError


class ModelConfig(BaseModel):
    """Resolved model settings for one agent; the default of each limit is stated here, once.

    `api_key_env` names the environment variable holding the key; the key itself is never stored
    in settings, run records or traces. `local=True` marks the bundled llama.cpp server, which
    needs `max_tokens` in `extra_body` and has no `json_schema` response format.
    """

    model: str = Field(description="Model name sent to the provider, e.g. deepseek-chat")
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL ending in /v1")
    api_key_env: str | None = Field(default="OPENAI_API_KEY", description="Env var holding the API key")
    temperature: float = 0.0
    max_tokens: int = Field(default=2048, description="Cap on output tokens per call")
    timeout: float = Field(default=60.0, gt=0, description="Seconds per HTTP attempt")
    retry_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long after a request's first failure it is retried (429, 5xx, timeouts)",
    )
    backoff_seconds: float = Field(
        default=0.5, ge=0, description="First wait after a failure without Retry-After; doubles, up to 16x"
    )
    max_retries: int | None = Field(
        default=None, ge=0, description="Optional cap on retries per request (default: what fits the budget)"
    )
    # 32: the 24 triage batches of a 471-paper day (batches of 20) go out in one wave, not two.
    max_concurrency: int = Field(default=32, ge=1, description="Requests in flight to this provider")
    requests_per_minute: int | None = Field(default=None, ge=1, description="Optional request rate cap")
    tokens_per_minute: int | None = Field(default=None, ge=1, description="Optional token rate cap")
    breaker_threshold: int = Field(
        default=5,
        ge=1,
        description="Attempts in a row that cannot connect (refused, unknown host, TLS): down",
    )
    provider: str | None = Field(default=None, description="The provider's name in settings, for messages")
    local: bool = False
    shared_limits_url: str | None = Field(
        default=None, description="postgresql:// URL holding these limits for every worker (store.url)"
    )

    @property
    def provider_label(self) -> str:
        """Name the provider for messages: `provider deepseek (https://api.deepseek.com/v1)`."""
        url = self.base_url or "https://api.openai.com/v1"
        return f"provider {self.provider} ({url})" if self.provider else f"provider at {url}"

    @property
    def provider_key(self) -> str:
        """Name the provider's gate: agents on the same endpoint and key share their limits."""
        return f"{self.base_url or 'https://api.openai.com/v1'} {self.api_key_env or ''}"


class ApiOptions(BaseModel):
    """How ribao talks to arXiv (API and listing feed); defaults follow arXiv's terms (a request per 3 s)."""

    model_config = ConfigDict(frozen=True)

    endpoint: str = Field(default="https://export.arxiv.org/api/query", description="Query endpoint URL")
    rss_endpoint: str = Field(
        default="https://rss.arxiv.org/rss", description="Listing feed base URL; categories are appended"
    )
    rss: bool = Field(default=True, description="Read the latest announcement day from the listing feed")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Connect and read timeout per request")
    delay_seconds: float = Field(default=3.0, ge=0, description="Least time between two requests")
    retries: int = Field(default=3, ge=0, description="Retries after a timeout, connection error, 429 or 5xx")
    backoff_seconds: float = Field(
        default=3.0, ge=0, description="First backoff without Retry-After; doubles"
    )
    max_wait_seconds: float = Field(
        default=120.0, gt=0, description="Longest wait; a longer Retry-After gives up"
    )
    page_size: int = Field(default=1000, ge=1, le=2000, description="Results per request (API limit 2000)")
    max_results: int = Field(
        default=5000, ge=1, description="Most submissions a day may have; more is an error"
    )


# Context windows in tokens of the provider presets' default models (ribao.settings.PROVIDER_PRESETS);
# the local model's window is `local.n_ctx`. A model not listed gets `default_context_tokens`.
DEFAULT_CONTEXT_TOKENS: dict[str, int] = {
    "gpt-4o-mini": 128_000,
    "gpt-4o": 128_000,
    "deepseek-chat": 64_000,
    "deepseek-reasoner": 64_000,
    "qwen-plus": 131_072,
    "qwen-max": 32_768,
    "qwen-turbo": 131_072,
    "glm-4-flash": 128_000,
    "glm-4-plus": 128_000,
    "moonshot-v1-8k": 8_192,
    "moonshot-v1-32k": 32_768,
    "moonshot-v1-128k": 131_072,
}


class FulltextOptions(BaseModel):
    """How ribao reads the full text of its picks. Endpoints get ``<id>v<N>`` appended (arXiv's paths).

    Sizes are bytes, times seconds, windows tokens. `context_tokens` maps a model name to its
    context window and merges over `DEFAULT_CONTEXT_TOKENS`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=True, description="Fetch the full text of must-reads (--no-fulltext)")
    notables: bool = Field(default=False, description="Also fetch the full text of notables")
    html_endpoint: str = Field(default="https://arxiv.org/html/", description="LaTeXML HTML base URL")
    pdf_endpoint: str = Field(default="https://arxiv.org/pdf/", description="PDF base URL")
    source_endpoint: str = Field(default="https://arxiv.org/e-print/", description="LaTeX e-print base URL")
    timeout_seconds: float = Field(
        default=30.0, gt=0, description="Connect/read timeout and whole-body deadline"
    )
    max_bytes: int = Field(default=30_000_000, gt=0, description="Largest download accepted")
    delay_seconds: float = Field(default=3.0, ge=0, description="Least time between two requests")
    retries: int = Field(default=2, ge=0, description="Retries after a timeout, connection error, 429 or 5xx")
    backoff_seconds: float = Field(default=3.0, ge=0, description="First backoff without Retry-After")
    retry_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Most seconds a host's failed tries (timeouts, 429, 5xx) may cost a run",
    )
    extract_seconds: float = Field(default=60.0, gt=0, description="Deadline of one extraction subprocess")
    extract_memory_mb: int = Field(default=1024, ge=128, description="Address-space limit of the extractor")
    max_unpacked_bytes: int = Field(default=50_000_000, gt=0, description="Largest e-print after unpacking")
    max_chars: int = Field(default=100_000, gt=0, description="Most characters of paper text sent per pick")
    context_tokens: dict[str, int] = Field(default_factory=dict, description="Model name → context window")
    default_context_tokens: int = Field(default=8192, ge=1024, description="Window of a model not listed")

    def context_window(self, model: str) -> int:
        """Return the context window in tokens of `model` (settings first, then the presets' table)."""
        table = {**DEFAULT_CONTEXT_TOKENS, **self.context_tokens}
        return table.get(model, self.default_context_tokens)


Format = Literal["markdown", "card", "text", "html"]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class ChannelSpec:
    """What a scheme accepts: the default rendering, a size limit (`unit` bytes of UTF-8 or chars),
    whether an over-long full digest is split into several messages (else shortened), and the
    Apprise body format sent."""

    format: Format
    limit: int | None
    unit: Literal["bytes", "chars"] = "bytes"
    split: bool = False
    apprise_format: Literal["markdown", "text", "html"] = "markdown"


# Limits from the services' documentation and Apprise's own `body_maxlen` (whichever is smaller).
SPECS: dict[str, ChannelSpec] = {
    "schan": ChannelSpec("markdown", 32_000, split=True),  # ServerChan: desp up to 32 KB
    "wxpusher": ChannelSpec("markdown", 40_000, unit="chars", split=True),
    "pushplus": ChannelSpec("markdown", 20_000, unit="chars", split=True),
    "wecombot": ChannelSpec("text", 2_048, apprise_format="text"),  # Apprise sends WeCom text messages
    "feishu": ChannelSpec("card", 18_000),  # Feishu webhook bodies are capped at 20 KB
    "lark": ChannelSpec("card", 18_000),
    "dingtalk": ChannelSpec("card", 19_000),  # DingTalk: 20,000 bytes per message
    "slack": ChannelSpec("card", 35_000, unit="chars"),
    "tgram": ChannelSpec("card", 4_096, unit="chars"),
    "discord": ChannelSpec("card", 2_000, unit="chars"),
    "mailto": ChannelSpec("html", None, apprise_format="html"),
    "mailtos": ChannelSpec("html", None, apprise_format="html"),
}
DEFAULT_SPEC = ChannelSpec("markdown", None)


class PushChannel(BaseModel):
    """One ``[[push]]`` table: a name, an Apprise URL (``${VAR}`` for secrets), an optional format."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, description="How --push/--to and the run log name this channel")
    url: str = Field(description="Apprise URL; ${VAR} is replaced by that env var at send time")
    format: Format | None = Field(
        default=None, description="markdown, card, text or html [default: per scheme]"
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        check_url(url)
        return url

    @model_validator(mode="after")
    def _html_only_email(self) -> PushChannel:
        if self.format == "html" and self.scheme not in ("mailto", "mailtos", "json", "form"):
            raise ValueError(f"push {self.name!r}: format html is for email and webhooks only")
        return self

    @property
    def scheme(self) -> str:
        """Return the URL's scheme, lower case (``schan``, ``mailto`` …)."""
        return self.url.split("://", 1)[0].lower()

    @property
    def spec(self) -> ChannelSpec:
        """Return what this channel's scheme accepts, with `format` overriding the rendering."""
        spec = SPECS.get(self.scheme, DEFAULT_SPEC)
        if self.format and self.format != spec.format:
            body: Literal["markdown", "text", "html"] = (
                "text" if self.format == "text" else "html" if self.format == "html" else "markdown"
            )
            return ChannelSpec(self.format, spec.limit, spec.unit, spec.split, body)
        return spec


def check_url(url: str) -> None:
    """Raise `ValueError` unless `url` is an Apprise URL of a known scheme (placeholders filled in)."""
    import apprise

    if "://" not in url:
        raise ValueError(f"not an Apprise URL (expected scheme://…): {url!r}")
    filled = _VAR.sub(_PLACEHOLDER, url)
    if "$" in filled:
        raise ValueError(f"malformed variable in {url!r}: write ${{NAME}}")
    if apprise.Apprise.instantiate(filled) is None:
        raise ValueError(f"Apprise does not accept {url!r} (unknown scheme or malformed URL)")


def select(channels: list[PushChannel], names: list[str] | None) -> list[PushChannel]:
    """Return the channels named in `names` (all when None), each once; raises `ConfigError` for an
    unknown name."""
    if not names:
        return list(channels)
    known = {c.name: c for c in channels}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown push channel {', '.join(unknown)}; configured: {', '.join(known) or 'none'}"
        )
    return [known[n] for n in dict.fromkeys(names)]  # `--to a --to a` sends once


class ProfileSettings(BaseModel):
    """One reader: `[profiles.NAME]` in config.toml. Only the shape is defined here; what each field
    does to a run is `ribao.profiles` (README "Reader profiles")."""

    model_config = ConfigDict(extra="forbid")

    interests: str = Field(default="", description="What this reader follows, free text (Chinese or English)")
    keywords: list[str] = Field(
        default_factory=list, description="English keywords of the interests; default: derived by the model"
    )
    seed_papers: list[str] = Field(default_factory=list, description="arXiv ids of papers like those wanted")
    library: str | None = Field(default=None, description="A BibTeX, CSL-JSON or RIS export (Zotero …)")
    authors: list[str] = Field(default_factory=list, description="Authors to follow (raise their papers)")
    avoid: list[str] = Field(default_factory=list, description="Topics or keywords that push a paper down")
    categories: list[str] | None = Field(default=None, description="Listing categories; default: the run's")
    must_read: int | None = Field(default=None, ge=1, le=10, description="Must-reads; default: the run's")
    notable: int | None = Field(default=None, ge=0, le=30, description="Notables; default: the run's")
    out_dir: str | None = Field(default=None, description="Output folder; default: <out_dir>/<profile name>")
    push: list[str] | None = Field(default=None, description="[[push]] channel names; default: all")
    relevance_weight: float = Field(
        default=0.5, ge=0, le=1, description="Share of relevance in the order (the rest: triage, rubric)"
    )
    floor: float = Field(
        default=0.3, ge=0, le=1, description="Least relevance a pick needs; a thin day is not padded"
    )


#: The URL schemes of a Postgres database (`store.url`, `ribao store migrate --to`).
POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def _without_password(url: str) -> str:
    """Return `url` with the password of ``user:password@`` masked, for messages."""
    from ribao.masking import scrub

    return scrub(url)


class StoreSettings(BaseModel):
    """Where checkpoints and the run log live: SQLite under the home folder, or a database URL."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="postgresql://… ; default: SQLite files in the home")
    claim_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="shared work: a run's claim on an answer it pays for, renewed every third of this; "
        "a claim not renewed (its run died) is taken over after it",
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, url: str | None) -> str | None:
        # Checked when the settings load: any other scheme would reach psycopg as a libpq string.
        if not url:
            return None  # "" (e.g. from the environment): the SQLite default
        if not url.startswith(POSTGRES_SCHEMES):
            raise ValueError(f"{_without_password(url)!r} is not a postgresql://user@host:port/db URL")
        return url


def _is_http_url(url: str) -> bool:
    """Return True when `url` is an http(s) URL with a host and, if given, a valid port."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port_ok


def check_memory_url(url: str) -> str:
    """Return `url` when it is an http(s) URL with a host (and a valid port); raises ValueError."""
    if not _is_http_url(url):
        raise ValueError(f"memory URL must look like http://host:port, got {_without_password(url)!r}")
    return url


class EvalSettings(BaseModel):
    """`ribao eval`: where references come from."""

    model_config = ConfigDict(extra="forbid")

    hf_endpoint: str = Field(
        default="https://huggingface.co/api/daily_papers", description="Hugging Face Daily Papers API"
    )
    judge: str = Field(
        default="", description="LLM judge of `ribao eval run`: PROVIDER or PROVIDER:MODEL (empty: none)"
    )


class TracingSettings(BaseModel):
    """Optional export of a run's nodes and LLM calls as OpenTelemetry spans."""

    model_config = ConfigDict(extra="forbid")

    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces; default: off"
    )

    @field_validator("otlp_endpoint")
    @classmethod
    def _valid_endpoint(cls, url: str | None) -> str | None:
        # Checked when the settings load: a typo found at the end of a paid run costs the run's trace.
        return check_otlp_endpoint(url) if url else None  # "" (e.g. from the environment): off


def check_otlp_endpoint(url: str) -> str:
    """Return `url` when it is an http(s) URL with a host (and a valid port); raises ValueError."""
    example = "e.g. http://127.0.0.1:4318/v1/traces"
    if not _is_http_url(url):
        raise ValueError(f"OTLP endpoint {url!r} is not an http(s) URL with a host ({example})")
    if any(c.isspace() for c in url):
        raise ValueError(f"OTLP endpoint {url!r} contains a space ({example})")
    return url
