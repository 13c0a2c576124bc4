"""The usage ledger's rules, stated once: how tokens and costs add up, and how money is written (a leaf).

A cost is an amount in a currency, or None when a price was unknown. Each LLM call is priced once,
when it is made (`LLMCall.cost`, `LLMCall.currency`); every total in ribao (the run log, the digest
header, `runs show`, `replay`, the trace) is `total_cost` over those recorded costs and `add_tokens`
over their token counts, and every amount shown is `money(...)`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€"}
UNKNOWN_COST = "cost unknown"

Cost = tuple[float | None, str | None]


class Priced(Protocol):
    """Anything with a recorded cost: an `LLMCall`, a run-log call row, an agent's totals."""

    @property
    def cost(self) -> float | None: ...

    @property
    def currency(self) -> str | None: ...


def add_costs(costs: Iterable[Cost], currency: str | None = None) -> Cost:
    """Sum `(amount, currency)` pairs: the cost is unknown (None) when any amount is None or when
    non-zero amounts are in different currencies (no exchange rate is ever assumed).

    A zero amount (the local model) is the same in every currency. Returns the total and its
    currency: the one currency of the non-zero amounts, else the first given, else `currency`.
    """
    costs = list(costs)
    paid = {cur for amount, cur in costs if amount and cur}
    named = [cur for _, cur in costs if cur]
    unit = next(iter(paid)) if len(paid) == 1 else (named[0] if named and not paid else currency)
    if len(paid) > 1:
        return None, currency
    if any(amount is None for amount, _ in costs):
        return None, unit
    return math.fsum(amount or 0.0 for amount, _ in costs), unit


def total_cost(items: Iterable[Priced], currency: str | None = None) -> Cost:
    """Return the `add_costs` total of the recorded `(item.cost, item.currency)` of `items`.

    No items cost 0 in `currency`; never prices anything again.
    """
    return add_costs(((item.cost, item.currency) for item in items), currency)


def money(cost: float | None, currency: str | None) -> str:
    """Return ``¥0.0300``-style text (4 decimals; symbol for CNY/USD/EUR, else the code) or `UNKNOWN_COST`;
    nothing paid in no currency (no calls, e.g. an agent one run of a diff did not ask) is ``0``."""
    if cost is None:
        return UNKNOWN_COST
    if cost == 0 and not currency:  # "0.0000" with no unit read like a price nobody set
        return "0"
    symbol = CURRENCY_SYMBOLS.get(currency or "", f"{currency} " if currency else "")
    return f"{symbol}{cost:.4f}"


class Tokens(NamedTuple):
    """Tokens summed over calls: input (the whole prompt, cached part included), output, cached."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total(self) -> int:
        """Input plus output tokens (what the digest header and `ribao run` show)."""
        return self.input_tokens + self.output_tokens


def _count(item: Any, name: str) -> int:
    # Calls, usage rows and run-log rows (sqlite3.Row, read by key) all carry the three counts.
    value = item[name] if not hasattr(item, name) else getattr(item, name)
    return int(value or 0)


def add_tokens(items: Iterable[Any]) -> Tokens:
    """Sum the `input_tokens`, `output_tokens` and `cached_tokens` of `items` (attributes or keys)."""
    tin = tout = cached = 0
    for item in items:
        tin += _count(item, "input_tokens")
        tout += _count(item, "output_tokens")
        cached += _count(item, "cached_tokens")
    return Tokens(tin, tout, cached)
