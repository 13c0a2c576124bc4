"""The ledger's one cost rule and one money format, as every report uses them."""

from __future__ import annotations

import pytest

from ribao.ledger import add_costs, money


def test_costs_add_in_one_currency() -> None:
    assert add_costs([(0.01, "USD"), (0.02, "USD")]) == (pytest.approx(0.03), "USD")


def test_any_unknown_price_makes_the_total_unknown() -> None:
    assert add_costs([(0.01, "USD"), (None, None)])[0] is None


def test_mixed_currencies_are_unknown_but_a_free_local_call_is_not() -> None:
    assert add_costs([(0.01, "USD"), (0.5, "CNY")], "CNY") == (None, "CNY")
    assert add_costs([(0.0, "CNY"), (0.01, "USD")]) == (pytest.approx(0.01), "USD")


def test_no_calls_cost_nothing_in_the_given_currency() -> None:
    assert add_costs([], "CNY") == (0.0, "CNY")


def test_money_has_one_format() -> None:
    assert money(0.03, "CNY") == "¥0.0300" and money(1.5, "USD") == "$1.5000"
    assert money(2, "JPY") == "JPY 2.0000" and money(None, "USD") == "cost unknown"
    assert money(None, "USD", unknown="unknown") == "unknown"
