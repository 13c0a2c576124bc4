"""Reuse paper-level answers another profile of the same day already paid for (`RunContext.shared`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ribao.context import RunContext
from ribao.llm.structured import model_name


def work_key(ctx: RunContext, agent: str, *parts: Any) -> str:
    """Return the sha256 of `agent`'s model name and `parts` (rendered prompts, a paper's view): equal
    keys mean an equal request, so its answer can be reused."""
    text = json.dumps([agent, model_name(ctx.model(agent)), *parts], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def recall(ctx: RunContext, kind: str, keys: Mapping[str, str]) -> dict[str, str]:
    """Return the stored answers {name: JSON} of `keys` ({name: key}); {} when nothing is shared."""
    if ctx.shared is None:
        return {}
    return await asyncio.to_thread(ctx.shared.get_many, kind, keys)


async def share(ctx: RunContext, kind: str, values: Mapping[str, str]) -> None:
    """Store answers {key: JSON} for the day's other profiles (nothing when nothing is shared)."""
    if ctx.shared is not None and values:
        await asyncio.to_thread(ctx.shared.put_many, kind, values)
