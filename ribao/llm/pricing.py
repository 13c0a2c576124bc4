"""Price each LLM call once, from its own tokens, with the agents' model configs (genai-prices, overrides)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ribao.calls import LLMCall
from ribao.ledger import Cost
from ribao.llm.config import ModelConfig
from ribao.llm.usage import LOCAL_PRICE, Price, TablePrice, Usage, price_for

#: Prices one call: ``(amount, currency)``, amount None when the call's model has no known price.
PriceCall = Callable[[LLMCall], Cost]


def unpriced(call: LLMCall) -> Cost:
    """The price of a call when no model config is known (fake or scripted models): unknown."""
    return None, None


def make_pricing(
    configs: Mapping[str, ModelConfig], overrides: Mapping[str, Price], local_currency: str
) -> PriceCall:
    """Return `price(call) -> (cost, currency)` for a run whose agents use `configs`.

    The price of each agent's model is looked up once (`price_for`); a call is then priced from
    its own input, cached and output tokens at the time it is priced (tiers depend on that call's
    prompt size, DeepSeek's rates on the hour). The cost is None when the call's agent has no
    known price; a call on the local model costs 0 in `local_currency`. Totals are
    `ribao.ledger.total_cost` over the calls' recorded costs.
    """
    prices: dict[str, Price | TablePrice | None] = {
        agent: price_for(cfg.model, cfg.base_url, dict(overrides), local=cfg.local)
        for agent, cfg in configs.items()
    }

    def price(c: LLMCall) -> Cost:
        rate = prices.get(c.agent)
        if rate is None:
            return None, None
        if rate is LOCAL_PRICE:
            return 0.0, local_currency
        usage = Usage(
            input_tokens=c.input_tokens, output_tokens=c.output_tokens, cached_tokens=c.cached_tokens
        )
        return float(rate.cost(usage)), rate.currency

    return price
