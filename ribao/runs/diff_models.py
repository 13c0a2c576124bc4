"""What `ribao runs diff A B` reports, as typed records (`--json` prints `RunDiff`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class RunSide(BaseModel):
    """One side of a diff: which run, its status and day, what it replayed, and its totals."""

    run_id: str
    status: str
    date: str | None = None
    replay_of: str | None = None
    replay_agent: str | None = None
    cost: float | None = None
    currency: str | None = None


class SettingChange(BaseModel):
    """One effective setting (dotted key, secrets masked as recorded) that differs; `missing` names
    the side that has no such key."""

    key: str
    a: Any = None
    b: Any = None
    missing: Literal["a", "b"] | None = None


class PromptChange(BaseModel):
    """One prompt file that differs: its versions ``{source, path, sha256}`` and a unified text diff.

    `note` says why there is no diff (a version's text is no longer on disk, or one side lacks the file).
    """

    file: str
    status: Literal["changed", "added", "removed"]
    a: dict[str, Any] | None = None
    b: dict[str, Any] | None = None
    diff: str | None = None
    note: str | None = None


class PickChange(BaseModel):
    """A pick that is only in one run (added/removed) or whose rank or tier moved."""

    arxiv_id: str
    title: str = ""
    change: Literal["added", "removed", "moved"]
    a_rank: int | None = None
    a_tier: str | None = None
    b_rank: int | None = None
    b_tier: str | None = None


class Usage(BaseModel):
    """Calls, tokens, cost (None: a price unknown) and the summed latency of the calls, in seconds."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float | None = 0.0
    currency: str | None = None
    latency_s: float = 0.0


class AgentDelta(BaseModel):
    """One agent's (or, as ``total``, the run's) usage in each run and B minus A."""

    agent: str
    a: Usage
    b: Usage
    delta: Usage


class CallSide(BaseModel):
    """One LLM call on one side of an aligned pair."""

    seq: int
    node: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_s: float
    cost: float | None
    currency: str | None = None
    error: str | None = None


class CallPair(BaseModel):
    """Two calls aligned by (node, task), or one with no partner.

    ``changed`` when the prompts or the replies differ: `prompt_diff` is a line diff of the messages
    sent (each message's role on a line, then its text), `diff` a line diff of the replies.
    """

    node: str
    task: str
    agent: str
    status: Literal["same", "changed", "only_a", "only_b"]
    a: CallSide | None = None
    b: CallSide | None = None
    prompt_diff: str = ""
    diff: str = ""


class RunDiff(BaseModel):
    """What differs between run A and run B (`ribao runs diff A B --json` prints this)."""

    a: RunSide
    b: RunSide
    settings: list[SettingChange] = Field(default_factory=list)
    scope: str | None = Field(default=None, description="What alone is compared, when one run is a replay")
    prompts: list[PromptChange] = Field(default_factory=list)
    prompts_note: str | None = Field(default=None, description="Why prompt files are not compared")
    picks: list[PickChange] = Field(default_factory=list)
    picks_note: str | None = None
    agents: list[AgentDelta] = Field(default_factory=list)
    total: AgentDelta
    calls: list[CallPair] = Field(default_factory=list)
