"""The `[fulltext]` settings section: endpoints, limits and context windows (a pydantic model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
