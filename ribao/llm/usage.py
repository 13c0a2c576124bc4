"""Token usage per LLM call and its cost, priced from config overrides or the `genai-prices` table."""

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


class PriceTier(BaseModel):
    """Rates that replace the base rates for a whole call once its prompt exceeds `above_input_tokens`."""

    model_config = ConfigDict(frozen=True)

    above_input_tokens: int
    input: Decimal
    output: Decimal
    cached: Decimal | None = None


class Price(BaseModel):
    """Prices per 1M tokens (MTok) in `currency` (USD from genai-prices; USD or CNY in overrides).

    `cached` is the rate for prompt tokens read from the provider's cache; None bills them as
    input. `tiers` model long-prompt pricing (the whole call moves to the tier's rates, as
    genai-prices and the providers define it). `source` says where the numbers came from.
    """

    model_config = ConfigDict(frozen=True)

    input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    cached: Decimal | None = Field(default=None, ge=0)
    currency: str = "USD"
    source: str = "config"
    tiers: tuple[PriceTier, ...] = ()


LOCAL_PRICE = Price(input=Decimal(0), output=Decimal(0), cached=Decimal(0), source="local llama.cpp server")


def price_for(
    model: str,
    base_url: str | None,
    overrides: dict[str, Price] | None = None,
    *,
    local: bool = False,
    at: datetime | None = None,
) -> Price | None:
    """Return the price of `model` at `base_url`, or None when it is unknown (never a guess).

    Order: `overrides[model]` (from config, any currency); then `local` → zero; then the
    `genai-prices` table bundled with the installed package (USD per MTok, maintained by Pydantic,
    https://github.com/pydantic/genai-prices; no network). With `base_url` the provider is the
    one whose API pattern matches it (api.deepseek.com, api.openai.com, open.bigmodel.cn,
    api.moonshot.cn, …) and an unmatched URL gives None: the same model name elsewhere (e.g. on
    DashScope) has another price. Without `base_url` genai-prices infers the provider from the
    model name (gpt-* → OpenAI, deepseek* → DeepSeek, glm-* → Zhipu, kimi* → Moonshot).
    Qwen (DashScope) and Doubao (Ark) are not in the table: configure overrides for them.
    `at` picks time-dependent prices (DeepSeek's off-peak hours); default now.
    """
    if overrides and model in overrides:
        return overrides[model]
    if local:
        return LOCAL_PRICE
    return _genai_price(model, base_url, at or datetime.now(UTC))


def cost(usage: Usage, price: Price | None) -> Decimal | None:
    """Return the cost of one call's `usage` in `price.currency`, or None when `price` is None.

    Call it per call and sum the results: the price tier depends on one call's prompt size.
    """
    if price is None:
        return None
    rates: Price | PriceTier = price
    for tier in price.tiers:
        if usage.input_tokens > tier.above_input_tokens:
            rates = tier
    cached_rate = rates.cached if rates.cached is not None else rates.input
    uncached = max(usage.input_tokens - usage.cached_tokens, 0)
    total = uncached * rates.input + usage.cached_tokens * cached_rate + usage.output_tokens * rates.output
    return total / MTOK


def _genai_price(model: str, base_url: str | None, at: datetime) -> Price | None:
    """Look `model` up in genai-prices' bundled snapshot; None if the provider or model is unknown."""
    import genai_prices
    from genai_prices.types import TieredPrices

    # A zero-token calculation is the public way to resolve provider, model and the prices in
    # force at `at`; find_provider_model() on the snapshot would be the undocumented one.
    zero = genai_prices.Usage(input_tokens=0, output_tokens=0)
    try:
        calc = genai_prices.calc_price(zero, model, provider_api_url=base_url, genai_request_timestamp=at)
    except LookupError:
        return None
    provider, info, prices = calc.provider, calc.model, calc.model_price
    keys = {"input": "input_mtok", "output": "output_mtok", "cached": "cache_read_mtok"}
    raw = {name: getattr(prices, key, None) for name, key in keys.items()}
    if raw["input"] is None or raw["output"] is None:
        return None  # priced per request or per second: not a token price

    def rates(input_tokens: int) -> dict[str, Any]:
        """Each rate in force for a call with `input_tokens` prompt tokens (the cliff model)."""
        out: dict[str, Any] = {}
        for name, value in raw.items():
            if isinstance(value, TieredPrices):
                out[name] = value.base
                for tier in value.tiers:
                    if input_tokens > tier.start:
                        out[name] = tier.price
            else:
                out[name] = value
        return out

    starts = sorted({t.start for v in raw.values() if isinstance(v, TieredPrices) for t in v.tiers})
    return Price(
        **rates(0),
        currency="USD",
        source=f"genai-prices {genai_prices.__version__}: {provider.id}/{info.id}",
        tiers=tuple(PriceTier(above_input_tokens=s, **rates(s + 1)) for s in starts),
    )
