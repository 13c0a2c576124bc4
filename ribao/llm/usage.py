"""Token usage per LLM call and its cost, priced from config overrides or the `genai-prices` table.

Each call is priced from its own usage; nothing here sums calls (see `ribao.ledger`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict, Field

MTOK = 1_000_000


class Usage(BaseModel):
    """Tokens of one call or a sum of calls, as the provider reported them.

    `input_tokens` counts the whole prompt, including `cached_tokens` (the part served from the
    provider's prompt cache, billed at the cached rate). `unreported_calls` counts calls whose
    reply carried no usage (e.g. llama.cpp when streaming), so a total never hides a gap.
    """

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    unreported_calls: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            unreported_calls=self.unreported_calls + other.unreported_calls,
        )

    def __radd__(self, other: Any) -> Usage:
        return self if other == 0 else self.__add__(other)  # lets sum() start from 0

    @classmethod
    def from_message(cls, message: BaseMessage) -> Usage:
        """Read `message.usage_metadata` (an `AIMessage`, e.g. `raw` of `include_raw=True`).

        Cached tokens come from `input_token_details.cache_read` (OpenAI's and DeepSeek's
        `prompt_tokens_details.cached_tokens`), else from DeepSeek's `prompt_cache_hit_tokens`.
        """
        meta = getattr(message, "usage_metadata", None)
        if not meta:
            return cls(unreported_calls=1)
        cached = (meta.get("input_token_details") or {}).get("cache_read")
        if cached is None:
            token_usage = (getattr(message, "response_metadata", None) or {}).get("token_usage") or {}
            cached = token_usage.get("prompt_cache_hit_tokens")
        return cls(
            input_tokens=meta.get("input_tokens") or 0,
            output_tokens=meta.get("output_tokens") or 0,
            cached_tokens=cached or 0,
        )


class Price(BaseModel):
    """A rate card per 1M tokens (MTok) in `currency`: a config override (USD or CNY) or the local model.

    `cached` is the rate for prompt tokens read from the provider's cache; None bills them as
    input. `source` says where the numbers came from.
    """

    model_config = ConfigDict(frozen=True)

    input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    cached: Decimal | None = Field(default=None, ge=0)
    currency: str = "USD"
    source: str = "config"

    def cost(self, usage: Usage, at: datetime | None = None) -> Decimal:
        """Return the cost of one call's `usage` in `currency` (the rates do not depend on `at`)."""
        cached_rate = self.cached if self.cached is not None else self.input
        uncached = max(usage.input_tokens - usage.cached_tokens, 0)
        total = uncached * self.input + usage.cached_tokens * cached_rate + usage.output_tokens * self.output
        return total / MTOK


class TablePrice(BaseModel):
    """A model found in the `genai-prices` table bundled with the installed package (USD, no network).

    Each call is priced by genai-prices itself from that call's own usage (`calc_price`), so its
    long-prompt tiers, cache rates and time-of-day prices (DeepSeek's off-peak hours) apply as the
    table defines them. `model` and `base_url` are what the call was sent with.
    """

    model_config = ConfigDict(frozen=True)

    model: str
    base_url: str | None = None
    currency: str = "USD"
    source: str

    def cost(self, usage: Usage, at: datetime | None = None) -> Decimal:
        """Return the cost in USD of one call's `usage` made at `at` (default now)."""
        import genai_prices

        calc = genai_prices.calc_price(
            _table_usage(usage), self.model, provider_api_url=self.base_url,
            genai_request_timestamp=at or datetime.now(UTC),
        )  # fmt: skip
        return calc.total_price


LOCAL_PRICE = Price(input=Decimal(0), output=Decimal(0), cached=Decimal(0), source="local llama.cpp server")


def price_for(
    model: str, base_url: str | None, overrides: dict[str, Price] | None = None, *, local: bool = False
) -> Price | TablePrice | None:
    """Return the price of `model` at `base_url`, or None when it is unknown (never a guess).

    Order: `overrides[model]` (from config, any currency); then `local` → zero; then the
    `genai-prices` table bundled with the installed package (USD, maintained by Pydantic,
    https://github.com/pydantic/genai-prices; no network). With `base_url` the provider is the
    one whose API pattern matches it (api.deepseek.com, api.openai.com, open.bigmodel.cn,
    api.moonshot.cn, …) and an unmatched URL gives None: the same model name elsewhere (e.g. on
    DashScope) has another price. Without `base_url` genai-prices infers the provider from the
    model name (gpt-* → OpenAI, deepseek* → DeepSeek, glm-* → Zhipu, kimi* → Moonshot).
    Qwen (DashScope) and Doubao (Ark) are not in the table: configure overrides for them.
    """
    if overrides and model in overrides:
        return overrides[model]
    if local:
        return LOCAL_PRICE
    import genai_prices

    # Pricing an empty call is the public way to ask whether the table knows the provider and model.
    try:
        found = genai_prices.calc_price(_table_usage(Usage()), model, provider_api_url=base_url)
    except LookupError:
        return None
    return TablePrice(
        model=model,
        base_url=base_url,
        source=f"genai-prices {genai_prices.__version__}: {found.provider.id}/{found.model.id}",
    )


def cost(usage: Usage, price: Price | TablePrice | None, at: datetime | None = None) -> Decimal | None:
    """Return the cost of one call's `usage` (made at `at`, default now) in `price.currency`, or None
    when `price` is None.

    Call it per call and sum the results: a price tier depends on one call's prompt size.
    """
    return None if price is None else price.cost(usage, at)


def _table_usage(usage: Usage) -> Any:
    """`usage` in genai-prices' terms (its `input_tokens` also include the cache reads)."""
    import genai_prices

    return genai_prices.Usage(
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
    )
