"""Per-provider limits against the loopback stub: concurrency cap, one shared 429 backoff, breaker."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from typing import Any

import pytest

from ribao.errors import ProviderDown
from ribao.llm.config import ModelConfig
from ribao.llm.models import make_chat_model
from ribao.settings import Settings
from tests.support.stub_openai import StubOpenAI

KEY_ENV = "RIBAO_TEST_LIMITS_KEY"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-limits")


def _cfg(stub: StubOpenAI, **kw: Any) -> ModelConfig:
    return ModelConfig(model="stub-chat", base_url=stub.base_url, api_key_env=KEY_ENV, **kw)


async def _many(cfg: ModelConfig, n: int) -> list[Any]:
    model = make_chat_model(cfg)
    return await asyncio.gather(*(model.ainvoke(f"call {i}") for i in range(n)), return_exceptions=True)


class InFlight:
    """Answer "ok" after `delay` s, recording the most requests ever in flight at once."""

    def __init__(self, delay: float) -> None:
        self.delay, self.now, self.most = delay, 0, 0
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        return {"text": "ok"}


def test_no_more_than_max_concurrency_requests_in_flight(openai_stub: StubOpenAI) -> None:
    counter = InFlight(0.1)
    openai_stub.responder = counter
    out = asyncio.run(_many(_cfg(openai_stub, max_concurrency=3), 10))
    assert all(getattr(r, "content", None) == "ok" for r in out), out
    assert counter.most == 3 and len(openai_stub.chat_requests) == 10


def test_a_429_pauses_every_task_of_the_provider(openai_stub: StubOpenAI) -> None:
    # The millisecond form OpenAI sends (the seconds form is test_llm_http's): 400 ms, not 1 s.
    openai_stub.script({"status": 429, "headers": {"retry-after-ms": "400"}})
    openai_stub.responder = InFlight(0.1)
    out = asyncio.run(_many(_cfg(openai_stub, max_concurrency=2), 6))
    assert all(getattr(r, "content", None) == "ok" for r in out), out
    first, *rest = openai_stub.chat_requests
    assert len(rest) == 6  # five calls plus the one retry
    # Besides the request already in flight beside the 429, nobody sent before the wait elapsed.
    later = [r.at - first.at for r in rest]
    assert sum(1 for t in later if t < 0.38) <= 1, later


def test_breaker_stops_siblings_once_the_budget_is_spent(openai_stub: StubOpenAI) -> None:
    openai_stub.responder = lambda body: {"status": 503}
    cfg = _cfg(openai_stub, max_concurrency=8, retry_seconds=0.3, backoff_seconds=0.05)
    out = asyncio.run(_many(cfg, 13))
    assert all(isinstance(r, ProviderDown) for r in out), out
    said = r"no attempt has succeeded for 0\.\d s and the retry budget is 0\.3 s \(retry_seconds\); last: "
    assert re.search(said + "HTTP 503: stub fault 503$", str(out[0])), out[0]
    # Every task retrying on its own for its own budget: 13 tasks x 4 or more attempts. With one
    # budget for the provider, the five queued tasks never send, and the first eight stop together.
    assert len(openai_stub.chat_requests) <= 8 * 4


def test_a_hung_provider_surfaces_after_two_timeout_waves(openai_stub: StubOpenAI) -> None:
    openai_stub.responder = lambda body: {"hang": 10}
    cfg = _cfg(openai_stub, max_concurrency=4, timeout=0.3, retry_seconds=0.3, backoff_seconds=0.01)
    out = asyncio.run(_many(cfg, 6))
    assert all(isinstance(r, ProviderDown) for r in out), out
    assert "no answer within 0.3 s" in str(out[0])
    # A single hang is retried (it may heal); a second wave of them opens the breaker for all six.
    assert len(openai_stub.chat_requests) <= 2 * 4


def test_a_providers_table_over_a_preset_keeps_the_preset_and_sets_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-x")
    s = Settings(llm="deepseek", providers={"deepseek": {"max_concurrency": 3, "timeout": 20}})
    cfg = s.model_for("screener")
    assert cfg.base_url == "https://api.deepseek.com/v1" and cfg.model == "deepseek-chat"
    assert (cfg.max_concurrency, cfg.timeout) == (3, 20)
    assert (cfg.retry_seconds, cfg.max_retries) == (ModelConfig.model_fields["retry_seconds"].default, None)
    assert cfg.provider_label == "provider deepseek (https://api.deepseek.com/v1)"
