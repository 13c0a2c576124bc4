"""Model configs, keys and a structured-output schema shared by the HTTP-path LLM tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ribao.llm.config import ModelConfig

if TYPE_CHECKING:
    from tests.support.stub_openai import StubOpenAI

KEY_ENV = "RIBAO_TEST_LLM_KEY"
KEY = "sk-test-0123456789"


class Rating(BaseModel):
    """A pick with a rubric score (a small structured-output schema)."""

    paper_id: Literal["P001", "P002", "P003"]
    score: Literal[1, 2, 3, 4, 5] = Field(description="1 = weak, 5 = must read")
    reason: str


def stub_config(stub: StubOpenAI, **kw: Any) -> ModelConfig:
    """A DeepSeek-named model at the stub, key in `KEY_ENV`, no retries, 5 s timeout; `kw` override."""
    fields: dict[str, Any] = {"model": "deepseek-chat", "base_url": stub.base_url, "api_key_env": KEY_ENV,
                                 "max_retries": 0, "timeout": 5.0, "max_tokens": 256}  # fmt: skip
    return ModelConfig(**(fields | kw))
