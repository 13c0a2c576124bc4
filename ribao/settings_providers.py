"""An agent's model: OpenAI-compatible providers (presets and ``[providers.NAME]``), per-agent overrides,
and the resolved `ModelConfig` the LLM layer is given."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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


class ProviderSettings(BaseModel):
    """An OpenAI-compatible endpoint; the key is read from `api_key_env` at call time, never stored.

    The limits (see `ribao.llm.limits`) hold for every agent using the endpoint; None keeps the
    default stated on `ModelConfig`.
    """

    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"
    model: str = ""
    max_concurrency: int | None = Field(default=None, ge=1, description="Requests in flight")
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    timeout: float | None = Field(default=None, gt=0, description="Seconds per HTTP attempt")
    retry_seconds: float | None = Field(default=None, ge=0, description="Retry budget after a first failure")
    backoff_seconds: float | None = Field(default=None, ge=0, description="First wait without Retry-After")
    max_retries: int | None = Field(default=None, ge=0, description="Optional cap on retries per request")
    breaker_threshold: int | None = Field(default=None, ge=1, description="Refused connects in a row = down")

    def limits(self) -> dict[str, Any]:
        """Return the limit fields that are set, as `ModelConfig` keyword arguments."""
        names = ("max_concurrency", "requests_per_minute", "tokens_per_minute", "timeout", "retry_seconds",
                 "backoff_seconds", "max_retries", "breaker_threshold")  # fmt: skip
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


# Well-known OpenAI-compatible endpoints; a [providers.NAME] table in config.toml adds or overrides one.
PROVIDER_PRESETS: dict[str, ProviderSettings] = {
    "openai": ProviderSettings(base_url=None, api_key_env="OPENAI_API_KEY", model="gpt-4o-mini"),
    "deepseek": ProviderSettings(
        base_url="https://api.deepseek.com/v1", api_key_env="DEEPSEEK_API_KEY", model="deepseek-chat"
    ),
    "qwen": ProviderSettings(
        base_url="https://dashscope.aliyuncs.com/compatible-mode/v1",
        api_key_env="DASHSCOPE_API_KEY",
        model="qwen-plus",
    ),
    "glm": ProviderSettings(
        base_url="https://open.bigmodel.cn/api/paas/v4", api_key_env="ZHIPUAI_API_KEY", model="glm-4-flash"
    ),
    "kimi": ProviderSettings(
        base_url="https://api.moonshot.cn/v1", api_key_env="MOONSHOT_API_KEY", model="moonshot-v1-32k"
    ),
    "doubao": ProviderSettings(
        base_url="https://ark.cn-beijing.volces.com/api/v3", api_key_env="ARK_API_KEY", model=""
    ),
    "ollama": ProviderSettings(base_url="http://127.0.0.1:11434/v1", api_key_env=None, model=""),
}


class AgentSettings(BaseModel):
    """Per-agent overrides of the run's provider: another provider, model or output cap."""

    provider: str | None = None
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
