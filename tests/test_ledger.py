"""The ledger's one cost rule and one money format, as every report uses them."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from ribao.calls import LLMCall
from ribao.ledger import Tokens, add_costs, add_tokens, money, total_cost
from ribao.llm.config import ModelConfig
from ribao.llm.pricing import make_pricing
from ribao.llm.usage import Price


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
    assert money(0.0, None) == "0" and money(0.0, "CNY") == "¥0.0000"  # was "0.0000": no unit, no price


def _call(agent: str, input_tokens: int, output_tokens: int = 0) -> LLMCall:
    return LLMCall(agent=agent, model="m", task="t", messages=[], raw="", input_tokens=input_tokens,
                   output_tokens=output_tokens)  # fmt: skip


def test_each_call_is_priced_from_its_own_usage() -> None:
    price = make_pricing(
        {
            "writer": ModelConfig(model="claude-sonnet-4-5"),  # $3/MTok input, $6 above 200k
            "critic": ModelConfig(
                model="qwen-plus", base_url="https://dashscope.aliyuncs.com/compatible-mode/v1"
            ),
            "editor": ModelConfig(model="smollm2", base_url="http://127.0.0.1:9/v1", local=True),
            "screener": ModelConfig(model="mine"),
        },
        {"mine": Price(input=Decimal(2), output=Decimal(8), currency="CNY")},
        "CNY",
    )
    short, long = price(_call("writer", 200_000)), price(_call("writer", 200_001))
    assert short == (pytest.approx(0.6), "USD") and long == (pytest.approx(1.200006), "USD")
    assert price(_call("critic", 1000)) == (None, None)  # not in the table: unknown, not guessed
    assert price(_call("editor", 10_000, 500)) == (0.0, "CNY")
    assert price(_call("screener", 1_000_000, 1_000_000)) == (pytest.approx(10.0), "CNY")


def test_total_cost_reads_the_recorded_costs() -> None:
    calls = [_call("writer", 10).model_copy(update={"cost": c, "currency": "USD"}) for c in (0.1, 0.2)]
    assert total_cost(calls, "CNY") == (pytest.approx(0.3), "USD")
    assert total_cost([*calls, _call("critic", 10)], "CNY") == (None, "USD")  # never priced: unknown
    assert total_cost([], "CNY") == (0.0, "CNY")


def test_tokens_add_up_from_calls_and_run_log_rows() -> None:
    calls = [
        LLMCall(agent="writer", model="m", task="t", messages=[], raw="", input_tokens=n, output_tokens=2,
                cached_tokens=1)
        for n in (10, 20)
    ]  # fmt: skip
    assert add_tokens(calls) == Tokens(30, 4, 2) and add_tokens(calls).total == 34
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT 5 AS input_tokens, 1 AS output_tokens, NULL AS cached_tokens").fetchall()
    assert add_tokens(rows) == Tokens(5, 1, 0) and add_tokens([]) == Tokens()
