"""Price a run's LLM calls with the per-agent model configs (genai-prices table, config overrides)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ribao.calls import LLMCall
from ribao.ledger import Cost, add_costs
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

    def price_call(c: LLMCall) -> Cost:
        """One call's own cost from its real usage: None for an unknown price, 0 on the local model."""
        price = prices.get(c.agent)
        if price is None:
            return None, None
        usage = Usage(
            input_tokens=c.input_tokens, output_tokens=c.output_tokens, cached_tokens=c.cached_tokens
        )
        amount = cost(usage, price)
        if price is LOCAL_PRICE:
            return 0.0, local_currency
        return (float(amount) if amount is not None else None), price.currency

    def pricing(calls: Sequence[LLMCall]) -> tuple[float | None, str]:
        total, currency = add_costs((price_call(c) for c in calls), local_currency)
        return total, currency or local_currency

    return pricing
