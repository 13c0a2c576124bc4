"""The run-scoped context every node receives: models, prompts, memory, settings (injected).

A leaf module: at run time it imports only the leaf layer (`ribao.calls`, `ribao.schemas`);
the services it carries are typed as Protocols or under TYPE_CHECKING, so agents that import it
never pull in graph/, runs/, commands/ or the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.language_models import BaseChatModel

from ribao.calls import LLMCall, PaidCalls
from ribao.files import write_files
from ribao.ledger import Cost, total_cost
from ribao.schemas import Listing

if TYPE_CHECKING:
    from ribao.delivery.delivery import Delivery
    from ribao.fulltext.reader import FulltextReader
    from ribao.fulltext.tokens import TokenBudget
    from ribao.memory.aio import AsyncMemory
    from ribao.profiles.run import RunProfile
    from ribao.settings import Settings
    from ribao.sources.stars import StarsResult


class Prompts(Protocol):
    """What nodes need of the prompt library (`ribao.prompts.PromptLibrary` implements it)."""

    used: dict[str, dict[str, str]]

    def render(self, agent: str, name: str, **variables: Any) -> str: ...

    def render_file(self, rel: str, *, filters: dict[str, Any] | None = None, **variables: Any) -> str: ...


class Shared(Protocol):
    """Paper-level work shared by the runs of one scope, with claims (`ribao.runs.shared.SharedWork`);
    blocking."""

    lease_s: float

    def get_many(self, kind: str, keys: Mapping[str, str]) -> dict[str, str]: ...

    def claim(self, kind: str, keys: Mapping[str, str], owner: str) -> tuple[dict[str, str], list[str]]: ...

    def renew(self, kind: str, keys: Mapping[str, str], owner: str) -> None: ...

    def release(self, kind: str, keys: Mapping[str, str], owner: str) -> None: ...

    def put_many(self, kind: str, values: Mapping[str, str], paid: PaidCalls | None = None) -> None: ...


#: Looks up GitHub stars of code links for an announcement day (`ribao.sources.stars.fetch_stars`
#: with the token, cache and timeout bound by the runner).
StarsClient = Callable[[Sequence[str], dt.date], "StarsResult"]


@dataclass
class RunContext:
    """What a node needs beyond the state; nodes never build their own model, store or prompt.

    `read_listing(date)` returns the day's listing (date None = the listing's own date);
    `memory` is None when memory is disabled; `models` maps agent name to its chat model;
    `local_agents` run on the local llama.cpp model (their schemas get tighter);
    `price(call)` prices one call from its own tokens: (amount, or None when the price is unknown;
    currency), called once per call as it is made (agents ask through `ribao.agents.ask.ask`);
    `stars` looks up GitHub stars (None = off); `write_files({path: text})` writes a digest's
    files atomically (`ribao.files.write_files`);
    `fulltext(day)` returns the full-text reader of an announcement day (None: no full text);
    `writer_budget` is the writer model's context window, output reserve and token counter
    (None: `TokenBudget()`'s defaults, an 8k window and an estimate);
    `delivery` sends the written digest to its push channels (None: push off);
    `profile` is the reader the picks are for (None: today's editorial stance, no relevance);
    `shared` holds the triage scores and summaries the day's other profiles already paid for
    (None: a run of one profile, nothing shared).
    """

    settings: Settings
    models: dict[str, BaseChatModel]
    prompts: Prompts
    read_listing: Callable[[dt.date | None], Listing]
    run_id: str
    memory: AsyncMemory | None = None
    local_agents: frozenset[str] = frozenset()
    price: Callable[[LLMCall], Cost] = field(default=lambda call: (None, None))
    stars: StarsClient | None = None
    write_files: Callable[[Mapping[Path, str]], None] = write_files
    fulltext: Callable[[dt.date], FulltextReader] | None = None
    writer_budget: TokenBudget | None = None
    delivery: Delivery | None = None
    profile: RunProfile | None = None
    shared: Shared | None = None

    def constrained(self, agent: str) -> bool:
        """True when `agent` runs on the local llama.cpp model, whose output schemas get tighter."""
        return agent in self.local_agents

    def model(self, agent: str) -> BaseChatModel:
        """Return the chat model configured for `agent`."""
        return self.models[agent]

    def total_cost(self, calls: Sequence[LLMCall]) -> tuple[float | None, str]:
        """Return (cost, currency) of `calls` from their recorded costs (`ribao.ledger.total_cost`):
        None when any call's price is unknown or the currencies differ; no calls cost 0 in
        `settings.currency`."""
        amount, currency = total_cost(calls, self.settings.currency)
        return amount, currency or self.settings.currency
