"""The config models `Settings` is made of: the arXiv client, full text, profiles, store, eval, tracing.

They live beside `Settings` (services layer, no I/O on import) so that loading the settings loads no
delivery, full-text or listing code; the subsystems import their model from here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


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


# Context windows in tokens of the provider presets' default models (`settings_providers.PROVIDER_PRESETS`);
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
