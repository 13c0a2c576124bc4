"""The HTTP path of ribao.llm against the stub server: usage, structured output, retries, keys, prices."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from ribao.errors import ConfigError, ProviderError
from ribao.llm.models import STRUCTURED_OUTPUT_METHOD, is_loopback, make_chat_model
from ribao.llm.usage import Price, Usage, cost, price_for
from tests.support.llm import (
    KEY,
    KEY_ENV,
    Rating,
    stub_config,
)
from tests.support.stub_openai import StubOpenAI


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def test_invoke_parses_usage_and_sends_key_and_limits(openai_stub: StubOpenAI) -> None:
    openai_stub.script(
        {"text": "你好", "usage": {"prompt_tokens": 120, "completion_tokens": 30, "cached_tokens": 100}}
    )
    reply = make_chat_model(stub_config(openai_stub, temperature=0.3)).invoke("hello")

    assert reply.content == "你好"
    assert Usage.from_message(reply) == Usage(input_tokens=120, output_tokens=30, cached_tokens=100)
    [req] = openai_stub.chat_requests
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.body is not None
    assert req.body["model"] == "deepseek-chat"
    assert req.body["max_completion_tokens"] == 256
    assert req.body["temperature"] == 0.3
    assert req.body["messages"] == [{"role": "user", "content": "hello"}]


def test_local_config_puts_max_tokens_in_body_and_never_sends_a_real_key(
    openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-key-that-must-stay-home")
    openai_stub.script("ok")
    cfg = stub_config(openai_stub, local=True, api_key_env="OPENAI_API_KEY", max_tokens=32)
    make_chat_model(cfg).invoke("hi")

    [req] = openai_stub.chat_requests
    assert req.body is not None
    assert req.body["max_tokens"] == 32
    assert "max_completion_tokens" not in req.body
    assert req.headers["authorization"] == "Bearer not-needed"


def test_loopback_endpoints_ignore_proxy_env_vars(
    openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    openai_stub.script("ok")
    assert make_chat_model(stub_config(openai_stub, local=True)).invoke("hi").content == "ok"
    assert is_loopback("http://localhost:8080/v1") and is_loopback("http://[::1]:1/v1")
    assert not is_loopback("https://api.deepseek.com") and not is_loopback(None)


def test_loopback_async_calls_survive_a_new_event_loop(openai_stub: StubOpenAI) -> None:
    openai_stub.script("first", "second")
    cfg = stub_config(openai_stub, local=True)
    # Each asyncio.run closes its loop; a connection pooled by the first would break the second.
    assert asyncio.run(make_chat_model(cfg).ainvoke("a")).content == "first"
    assert asyncio.run(make_chat_model(cfg).ainvoke("b")).content == "second"


def test_structured_output_forces_the_tool_and_parses_the_call(openai_stub: StubOpenAI) -> None:
    args = {"paper_id": "P002", "score": 4, "reason": "new benchmark"}
    openai_stub.script(
        {"tool": "Rating", "args": args, "usage": {"prompt_tokens": 300, "completion_tokens": 20}}
    )
    cfg = stub_config(openai_stub)
    model = make_chat_model(cfg).with_structured_output(
        Rating, method=STRUCTURED_OUTPUT_METHOD, include_raw=True
    )
    out = model.invoke([("system", "Rate the paper."), ("user", "P002: a new benchmark")])

    assert out["parsing_error"] is None
    assert out["parsed"] == Rating.model_validate(args)
    assert Usage.from_message(out["raw"]) == Usage(input_tokens=300, output_tokens=20)
    body = openai_stub.chat_requests[0].body
    assert body is not None
    [tool] = body["tools"]
    assert tool["function"]["name"] == "Rating"
    assert tool["function"]["parameters"]["properties"]["paper_id"]["enum"] == ["P001", "P002", "P003"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Rating"}}
    assert body["messages"][0] == {"role": "system", "content": "Rate the paper."}


def test_streaming_requests_and_merges_the_usage_chunk(openai_stub: StubOpenAI) -> None:
    openai_stub.script({"text": "one two three", "usage": {"prompt_tokens": 9, "completion_tokens": 3}})
    chunks = list(make_chat_model(stub_config(openai_stub)).stream("count"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk

    assert merged.content == "one two three"
    assert Usage.from_message(merged) == Usage(input_tokens=9, output_tokens=3)
    body = openai_stub.chat_requests[0].body
    assert body is not None
    assert body["stream_options"] == {"include_usage": True}


def test_429_with_retry_after_is_retried_after_the_wait(openai_stub: StubOpenAI) -> None:
    openai_stub.script({"status": 429, "headers": {"Retry-After": "1"}}, "ok")
    reply = asyncio.run(make_chat_model(stub_config(openai_stub, max_retries=2)).ainvoke("hi"))

    assert reply.content == "ok"
    first, second = openai_stub.chat_requests
    # Waited as Retry-After said, not the 0.5 s backoff: a lower bound only, so a slow machine
    # cannot fail it (no speed is asserted).
    assert second.at - first.at >= 0.95


# The gate's backoff at a tenth of its length (still doubling, with jitter): for tests that count
# retries, not time them (the 429 test above keeps the real one).
QUICK = {"backoff_seconds": 0.05}


def test_500_is_retried_with_backoff_then_raises_when_retries_run_out(openai_stub: StubOpenAI) -> None:
    openai_stub.script({"status": 500}, "ok")
    assert (
        asyncio.run(make_chat_model(stub_config(openai_stub, max_retries=1, **QUICK)).ainvoke("hi")).content
        == "ok"
    )

    openai_stub.script({"status": 500}, {"status": 503, "body": {"error": {"message": "overloaded"}}})
    with pytest.raises(ProviderError, match=r"HTTP 503: overloaded on 2 attempts \(max_retries = 1\)"):
        asyncio.run(make_chat_model(stub_config(openai_stub, max_retries=1, **QUICK)).ainvoke("hi"))
    assert len(openai_stub.chat_requests) == 4


def test_a_hanging_request_times_out_and_is_retried(openai_stub: StubOpenAI) -> None:
    openai_stub.script({"hang": 10}, "ok")
    cfg = stub_config(openai_stub, timeout=0.5, max_retries=None, **QUICK)
    reply = asyncio.run(make_chat_model(cfg).ainvoke("hi"))

    assert reply.content == "ok"  # the 10 s hang was cut by the 0.5 s timeout, then retried
    assert len(openai_stub.chat_requests) == 2


def test_missing_api_key_env_is_a_config_error_naming_the_variable(
    openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ConfigError, match=KEY_ENV):
        make_chat_model(stub_config(openai_stub))
    monkeypatch.setenv(KEY_ENV, "  ")
    with pytest.raises(ConfigError, match=KEY_ENV):
        make_chat_model(stub_config(openai_stub))
    assert openai_stub.requests == []


def test_keyless_endpoint_and_local_need_no_env_var(
    openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    openai_stub.script("keyless", "local")
    keyless, local = stub_config(openai_stub, api_key_env=None), stub_config(openai_stub, local=True)
    for cfg, answer in ((keyless, "keyless"), (local, "local")):
        assert asyncio.run(make_chat_model(cfg).ainvoke("hi")).content == answer
    sent = [r.headers.get("authorization") for r in openai_stub.chat_requests]
    assert sent == ["Bearer not-needed"] * 2  # a placeholder: no variable is read


def test_usage_adds_and_counts_calls_without_usage() -> None:
    from langchain_core.messages import AIMessage

    a = Usage(input_tokens=10, output_tokens=2, cached_tokens=4)
    b = Usage.from_message(AIMessage(content="streamed, no usage"))
    total = sum([a, a, b])
    assert total == Usage(input_tokens=20, output_tokens=4, cached_tokens=8, unreported_calls=1)
    assert total.total_tokens == 24


def test_deepseek_cache_hit_field_is_read_when_details_are_missing() -> None:
    from langchain_core.messages import AIMessage

    msg = AIMessage(
        content="x",
        usage_metadata={"input_tokens": 50, "output_tokens": 5, "total_tokens": 55},
        response_metadata={"token_usage": {"prompt_cache_hit_tokens": 40}},
    )
    assert Usage.from_message(msg).cached_tokens == 40


@pytest.mark.parametrize(
    ("model", "base_url", "entry"),
    [
        ("deepseek-chat", "https://api.deepseek.com/v1", "deepseek/deepseek-chat"),
        ("gpt-4o-mini", None, "openai/gpt-4o-mini"),
        ("gpt-4o-mini", "https://api.openai.com/v1", "openai/gpt-4o-mini"),
        ("glm-4-plus", "https://open.bigmodel.cn/api/paas/v4", "zhipuai/GLM-4-Plus"),
        ("kimi-k2-0905-preview", "https://api.moonshot.cn/v1", "moonshotai/kimi-k2-0905-preview"),
    ],
)
def test_price_for_known_models_comes_from_genai_prices_in_usd(
    model: str, base_url: str | None, entry: str
) -> None:
    price = price_for(model, base_url, {})
    assert price is not None
    assert price.currency == "USD"
    assert cost(Usage(input_tokens=1_000_000, output_tokens=1_000_000), price) > 0
    assert price.source.startswith("genai-prices ") and price.source.endswith(entry)


@pytest.mark.parametrize(
    ("model", "base_url"),
    [
        ("no-such-model-xyz", None),
        ("qwen-plus", "https://dashscope.aliyuncs.com/compatible-mode/v1"),  # not in the table
        ("deepseek-chat", "https://llm.example.internal/v1"),  # same name, unknown host: no guess
        ("gpt-4o-mini", "https://api.deepseek.com"),  # real host, model it doesn't serve
    ],
)
def test_price_for_unknown_is_none(model: str, base_url: str | None) -> None:
    assert price_for(model, base_url, {}) is None


def test_override_wins_and_local_is_free() -> None:
    mine = Price(input=Decimal("2"), output=Decimal("8"), cached=Decimal("0.5"), currency="CNY")
    assert price_for("deepseek-chat", "https://api.deepseek.com", {"deepseek-chat": mine}) is mine
    assert (
        price_for("qwen-plus", "https://dashscope.aliyuncs.com/compatible-mode/v1", {"qwen-plus": mine})
        is mine
    )
    local = price_for("smollm2-135m", "http://127.0.0.1:40000/v1", {}, local=True)
    assert local is not None
    assert cost(Usage(input_tokens=10_000, output_tokens=500), local) == 0


def test_cost_bills_cached_tokens_at_the_cached_rate_and_applies_tiers() -> None:
    price = Price(input=Decimal("2"), output=Decimal("8"), cached=Decimal("0.5"), currency="CNY")
    usage = Usage(input_tokens=1_000_000, output_tokens=500_000, cached_tokens=400_000)
    assert cost(usage, price) == Decimal("1.2") + Decimal("0.2") + Decimal("4")
    assert cost(usage, None) is None
    assert cost(usage, price.model_copy(update={"cached": None})) == Decimal("2") + Decimal("4")

    tiered = price_for("claude-sonnet-4-5", None, {})  # $3/MTok input, $6/MTok above 200k input tokens
    assert tiered is not None
    short, long = Usage(input_tokens=200_000), Usage(input_tokens=200_001)
    assert cost(short, tiered) == Decimal("0.6")  # the whole call at the base rate
    assert cost(long, tiered) == Decimal("1.200006")  # the whole call at the long-context rate


def test_deepseek_price_depends_on_the_time_of_day() -> None:
    from datetime import UTC, datetime

    price = price_for("deepseek-chat", "https://api.deepseek.com", {})
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000)
    day = cost(usage, price, at=datetime(2026, 1, 5, 10, tzinfo=UTC))
    night = cost(usage, price, at=datetime(2026, 1, 5, 20, tzinfo=UTC))
    assert day is not None and night is not None
    assert night < day
