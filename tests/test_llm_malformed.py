"""A provider whose 200 reply body is malformed JSON: a transient fault, retried, then one line."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from langchain_core.messages import HumanMessage

from ribao.errors import ProviderError
from ribao.llm.models import make_chat_model
from ribao.llm.structured import ainvoke_structured
from tests.support.llm import KEY, KEY_ENV, Rating, stub_config

if TYPE_CHECKING:
    from tests.support.stub_openai import StubOpenAI

pytest_plugins = ["tests.support.stub_openai"]

CUT = '{"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "mess'
GOOD = {"tool": "Rating", "args": {"paper_id": "P001", "score": 3, "reason": "ok"}}


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def _ask(stub: StubOpenAI) -> Rating:
    model = make_chat_model(stub_config(stub))
    rating, _ = asyncio.run(
        ainvoke_structured(model, Rating, [HumanMessage("rate P001")], agent="critic", task="t", retries=0)
    )
    return rating


def test_a_cut_reply_body_is_retried_then_succeeds(openai_stub: StubOpenAI) -> None:
    openai_stub.script({"raw": CUT}, GOOD)
    assert _ask(openai_stub).paper_id == "P001"
    assert len(openai_stub.chat_requests) == 2


def test_a_body_that_stays_malformed_is_one_provider_error_line(openai_stub: StubOpenAI) -> None:
    openai_stub.script({"raw": CUT}, {"raw": CUT}, {"raw": "not json at all"})
    with pytest.raises(ProviderError) as caught:
        _ask(openai_stub)
    message = str(caught.value)
    assert "malformed reply body" in message and "critic" in message and "\n" not in message
    assert len(openai_stub.chat_requests) == 3
