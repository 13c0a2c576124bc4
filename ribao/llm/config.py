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
    timeout: float = Field(default=120.0, description="Seconds per HTTP request")
    max_retries: int = Field(default=4, description="Retries on 429/5xx/connection errors (openai client)")
    local: bool = False
