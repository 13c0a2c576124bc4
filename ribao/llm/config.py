"""How one agent reaches its chat model (an OpenAI-compatible endpoint)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ModelConfig(BaseModel):
    """Resolved model settings for one agent.

    `api_key_env` names the environment variable holding the key; the key itself is never stored
    in settings, run records or traces. `local=True` marks the bundled llama.cpp server, which
    needs `max_tokens` in `extra_body` and has no `json_schema` response format.
    """

    model: str = Field(description="Model name sent to the provider, e.g. deepseek-chat")
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL ending in /v1")
    api_key_env: str | None = Field(default="OPENAI_API_KEY", description="Env var holding the API key")
    temperature: float = 0.0
    max_tokens: int = Field(default=2048, description="Cap on output tokens per call")
    timeout: float = Field(default=60.0, description="Seconds per HTTP attempt")
    max_retries: int = Field(default=2, description="Retries per request: 429, 5xx, timeouts, connections")
    # 32: the 24 triage batches of a 471-paper day (batches of 20) go out in one wave, not two.
    max_concurrency: int = Field(default=32, ge=1, description="Requests in flight to this provider")
    requests_per_minute: int | None = Field(default=None, ge=1, description="Optional request rate cap")
    tokens_per_minute: int | None = Field(default=None, ge=1, description="Optional token rate cap")
    breaker_threshold: int = Field(
        default=5, ge=1, description="Consecutive failed attempts after which the provider counts as down"
    )
    local: bool = False

    @property
    def provider_key(self) -> str:
        """Name the provider's gate: agents on the same endpoint and key share their limits."""
        return f"{self.base_url or 'https://api.openai.com/v1'} {self.api_key_env or ''}"
