"""The record of one LLM call: a leaf type every layer reads (state, run log, digest, trace)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field


class LLMCall(BaseModel):
    """One request to a chat model, as recorded in the run state and the JSON output.

    Tokens are the provider's counts from `usage_metadata` (0 when it reports none); `latency_s`
    is wall-clock seconds; `error` is the schema or check failure that made ribao re-ask.
    `cost` is what this call cost in `currency`, priced once from its own tokens when the call
    was made (`ribao.llm.pricing`); None means the model's price is unknown. Every total reads it
    (`ribao.ledger.total_cost`).
    """

    agent: str
    model: str
    task: str = Field(description="What the call was for, e.g. triage 2/9, rank round 1, 2602.15763")
    messages: list[dict[str, str]]
    raw: str = Field(description="The reply as sent: tool-call arguments as JSON, or text")
    parsed: dict[str, Any] | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    error: str | None = None
    cost: float | None = None
    currency: str | None = None
    logged: bool = Field(
        default=False,
        exclude=True,
        description="In the run log already, stored with the shared answer it paid for: not recorded again",
    )


@dataclass(frozen=True)
class PaidCalls:
    """The calls that paid for shared answers, as the run log records them: by run, node and task."""

    run_id: str
    node: str
    task_id: str | None
    calls: Sequence[LLMCall]
