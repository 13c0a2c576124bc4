"""The config models `Settings` is made of: an agent's model, the arXiv client, full text, push channels.

They live beside `Settings` (services layer, no I/O on import) so that loading the settings loads no
delivery, full-text or listing code; the subsystems import their model from here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
