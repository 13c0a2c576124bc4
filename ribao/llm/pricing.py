"""Price a run's LLM calls with the per-agent model configs (genai-prices table, config overrides)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from ribao.calls import LLMCall
from ribao.llm.config import ModelConfig
from ribao.llm.usage import LOCAL_PRICE, Price, Usage, cost, price_for


def make_pricing(
    configs: Mapping[str, ModelConfig], overrides: Mapping[str, Price], local_currency: str
) -> Callable[[Sequence[LLMCall]], tuple[float | None, str]]:
    """Return `pricing(calls) -> (cost, currency)` for a run whose agents use `configs`.

    The cost is None ("cost unknown") when any call's model has no known price or the prices
    are in different currencies; no exchange rate is ever assumed. A run on the local model
    costs 0 in `local_currency`.
    """
    prices: dict[str, Price | None] = {
        agent: price_for(cfg.model, cfg.base_url, dict(overrides), local=cfg.local)
        for agent, cfg in configs.items()
    }

    def pricing(calls: Sequence[LLMCall]) -> tuple[float | None, str]:
        used = {c.agent for c in calls}
        known = [prices.get(a) for a in used]
        if any(p is None for p in known):
            return None, local_currency
        currencies = {p.currency for p in known if p is not None and p is not LOCAL_PRICE}
        if len(currencies) > 1:
            return None, local_currency
        currency = currencies.pop() if currencies else local_currency
        total = Decimal(0)
        for c in calls:
            usage = Usage(
                input_tokens=c.input_tokens, output_tokens=c.output_tokens, cached_tokens=c.cached_tokens
            )
            amount = cost(usage, prices[c.agent])
            total += amount or Decimal(0)
        return float(total), currency

    return pricing
