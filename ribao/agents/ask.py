"""How an agent asks its model: the run's model for that agent, its re-ask budget and its pricing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.llm.structured import ainvoke_structured

T = TypeVar("T", bound=BaseModel)


async def ask(
    ctx: RunContext,
    agent: str,
    schema: type[T],
    messages: Sequence[BaseMessage],
    *,
    task: str,
    check: Callable[[T], None] | None = None,
) -> tuple[T, list[LLMCall]]:
    """Ask `agent`'s model (`ctx.model(agent)`) for a `schema` reply, re-asked up to
    `settings.structured_retries` times, each call priced once by `ctx.price`.

    Returns the reply and the record of every attempt; raises what `ainvoke_structured` raises
    (`LLMOutputError`, `ProviderError`).
    """
    return await ainvoke_structured(
        ctx.model(agent),
        schema,
        messages,
        agent=agent,
        task=task,
        check=check,
        retries=ctx.settings.structured_retries,
        price=ctx.price,
    )
